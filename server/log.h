/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * log.h: one line per event, level-filtered, to stderr or a file.  Values are never logged: pass
 * key names or sizes at most, never payloads.  The level check happens in the macro, so a
 * disabled message costs one comparison and evaluates none of its arguments.
 */
#ifndef SERVER_LOG_H
#define SERVER_LOG_H

#define SRV_LOG_DEBUG 0
#define SRV_LOG_VERBOSE 1
#define SRV_LOG_NOTICE 2
#define SRV_LOG_WARNING 3

extern int srv_log_level;

/* Send log lines to `path` (appending), or to stderr when path is NULL or "".  Returns 0, or -1
 * with errno set when the file cannot be opened (the previous destination stays). */
int srv_log_open(const char *path);

/* Close a log file opened by srv_log_open and go back to stderr. */
void srv_log_close(void);

/* Write one line: "<pid>:<role> <dd Mon yyyy hh:mm:ss.mmm> <level char> <message>\n", the way
 * redis-server formats its log.  Use srv_log() instead, which filters by level first. */
void srv_log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define srv_log(level, ...)                                                                        \
    do {                                                                                           \
        if ((level) >= srv_log_level) srv_log_write((level), __VA_ARGS__);                        \
    } while (0)

#endif /* SERVER_LOG_H */
