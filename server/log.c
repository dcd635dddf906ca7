/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * log.c: level-filtered log lines in redis-server's format, to stderr or an appended file.
 *
 *     12345:M 05 Mar 2024 10:00:00.123 * Ready to accept connections
 *
 * Design: each line is formatted into a stack buffer and written with one write(2), so lines
 * from several processes appending to one file never interleave, and nothing is allocated.
 * Rejected: stdio (its buffer splits or delays lines, and fflush after every line is the same
 * syscall with more state) and syslog (operators of a container expect stderr).
 *
 * Invariants: a log call never aborts, never allocates and leaves errno as it found it, so a
 * caller may log between a failing syscall and its own use of errno.  Messages are cut at
 * LOG_LINE_MAX bytes and control characters become '?', so one event is always one line.
 *
 * Threading: srv_log_write may be called from any thread (one write per line); srv_log_open and
 * srv_log_close change the destination and belong to the main thread at startup/shutdown.
 */
#include "server/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Bytes in one formatted line, prefix and newline included; longer messages are cut (Redis's
 * LOG_MAX_LEN is 1024 for the message alone; ours bounds the whole line on the stack). */
#define LOG_LINE_MAX 1024

/* Redis's level markers: debug, verbose, notice, warning. */
static const char level_chars[] = {'.', '-', '*', '#'};

int srv_log_level = SRV_LOG_NOTICE;
static int log_fd = STDERR_FILENO;

int srv_log_open(const char *path)
{
    int fd;

    if (path == NULL || path[0] == '\0') {
        srv_log_close();
        return 0;
    }
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    srv_log_close();
    log_fd = fd;
    return 0;
}

void srv_log_close(void)
{
    if (log_fd != STDERR_FILENO) close(log_fd);
    log_fd = STDERR_FILENO;
}

/* "PID:M DD Mon YYYY HH:MM:SS.mmm C " into buf; returns its length (0 if the clock failed). */
static size_t format_prefix(char *buf, size_t buflen, int level)
{
    struct timeval tv;
    struct tm tm;
    char stamp[32];
    int n;

    if (gettimeofday(&tv, NULL) != 0 || localtime_r(&tv.tv_sec, &tm) == NULL) return 0;
    if (strftime(stamp, sizeof stamp, "%d %b %Y %H:%M:%S", &tm) == 0) return 0;
    n = snprintf(buf, buflen, "%ld:M %s.%03d %c ", (long)getpid(), stamp,
                 (int)(tv.tv_usec / 1000), level_chars[level]);
    return n > 0 && (size_t)n < buflen ? (size_t)n : 0;
}

/* Replace bytes that would break the one-line-per-event rule (CR, LF, other controls). */
static void scrub_controls(char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) s[i] = '?';
}

void srv_log_write(int level, const char *fmt, ...)
{
    char line[LOG_LINE_MAX];
    int saved_errno = errno;
    size_t len;
    va_list ap;
    int n;

    if (level < SRV_LOG_DEBUG) level = SRV_LOG_DEBUG;
    if (level > SRV_LOG_WARNING) level = SRV_LOG_WARNING;
    len = format_prefix(line, sizeof line, level);
    va_start(ap, fmt);
    n = vsnprintf(line + len, sizeof line - len - 1, fmt, ap); /* keep a byte for '\n' */
    va_end(ap);
    if (n > 0) {
        size_t msg = (size_t)n < sizeof line - len - 1 ? (size_t)n : sizeof line - len - 2;
        scrub_controls(line + len, msg);
        len += msg;
    }
    line[len++] = '\n';
    while (write(log_fd, line, len) < 0 && errno == EINTR) {
    }
    errno = saved_errno;
}
