# SPDX-License-Identifier: BSD-3-Clause
"""Helpers for bench.py: server processes, a small RESP client, CPU accounting, statistics.

Every process started here is remembered by its PID and stopped by that PID only (SIGTERM, then
SIGKILL after a grace period); `stop_all` runs at exit and on SIGINT/SIGTERM so an interrupted
benchmark leaves nothing running.  Nothing here reads the project's headers or sources: the
servers are black boxes on loopback ports.
"""

import os
import signal
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "redis-tests",
                                "semantics"))
from harness import Conn, RespError  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

_started = []  # Server objects still running


class BenchError(Exception):
    pass


# ---- ports


def free_ports(n, start=21000, end=60000):
    """n distinct TCP ports on 127.0.0.1 that nothing listens on right now (checked by binding),
    taken from a random spot in [start, end) so parallel runs rarely collide."""
    import random

    ports = []
    p = random.randrange(start, end - 5000)
    while len(ports) < n:
        p += 1
        if p >= end:
            p = start
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", p))
            s.close()
        except OSError:
            continue
        ports.append(p)
    return ports


# ---- a RESP client: the black-box tests' client (redis-tests/semantics/harness.py), with
# Nagle off, errors raised as BenchError, and INFO parsed


class Resp(Conn):
    def __init__(self, port, timeout=10.0):
        super().__init__(port, timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def cmd(self, *args):
        try:
            return super().cmd(*args)
        except RespError as e:
            raise BenchError(str(e)) from None

    def info(self, section=None):
        raw = self.cmd("INFO", section) if section else self.cmd("INFO")
        d = {}
        for line in raw.decode().splitlines():
            if ":" in line and not line.startswith("#"):
                k, v = line.split(":", 1)
                d[k] = v
        return d


# ---- processes


class Server:
    """A server process we started.  `argv` is kept for the report's command lines."""

    def __init__(self, name, argv, port, log_path, env=None, cwd=None):
        self.name, self.argv, self.port, self.log_path = name, argv, port, log_path
        self.log = open(log_path, "wb")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=full_env, cwd=cwd)
        self.pid = self.proc.pid
        _started.append(self)

    def wait_ready(self, timeout=30.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise BenchError("%s exited with %s at start-up; see %s" %
                                 (self.name, self.proc.returncode, self.log_path))
            try:
                r = Resp(self.port, timeout=2.0)
                try:
                    pong = r.cmd("PING")
                except BenchError as e:  # a cluster node copying the keyspace is alive too
                    pong = "PONG" if str(e).startswith("LOADING") else None
                r.close()
                if pong == "PONG":
                    return
            except (OSError, BenchError):
                pass
            time.sleep(0.05)
        raise BenchError("%s did not answer PING on port %d" % (self.name, self.port))

    def client(self, timeout=10.0):
        return Resp(self.port, timeout=timeout)

    def rss_bytes(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def cpu_ticks(self):
        return proc_cpu_ticks(self.pid)

    def sleeps(self):
        return proc_sleeps(self.pid)

    def stop(self, grace=10.0):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        if self in _started:
            _started.remove(self)


def stop_all():
    for s in list(_started):
        try:
            s.stop(grace=5.0)
        except Exception:  # best effort at exit
            pass


def proc_cpu_ticks(pid):
    """utime + stime of a whole process (all threads), in clock ticks."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except OSError:
        return 0


def proc_sleeps(pid):
    """Voluntary context switches of a process's main thread: how often it slept, nearly always
    waiting for events."""
    try:
        with open("/proc/%d/task/%d/status" % (pid, pid)) as f:
            for line in f:
                if line.startswith("voluntary_ctxt_switches:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def machine_busy_ticks(niced=False):
    """CPU time charged to processes on all CPUs, from /proc/stat, in ticks: user + system, or
    with niced=True the `nice` column alone (processes at a lower priority, which yield to ours:
    a niced fuzzer steals little from the servers under test, so it is reported apart)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[1] if niced else v[0] + v[2]


def run_timed(argv, timeout, stdin_path=None, out_path=None):
    """Run a command to completion, bounded by `timeout` seconds (then SIGKILL).  Output (stdout
    and stderr) goes to out_path, or to a temporary file.  Returns (returncode, output bytes,
    wall seconds, CPU seconds of the command and the children it waited for); the return code is
    -9 when the time-out killed it."""
    import tempfile

    t0 = time.time()
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    out = open(out_path, "w+b") if out_path else tempfile.TemporaryFile()
    p = subprocess.Popen(argv, stdin=stdin, stdout=out, stderr=subprocess.STDOUT)
    killed = False
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            break
        if not killed and time.time() - t0 > timeout:
            p.kill()
            killed = True
        time.sleep(0.01)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.time() - t0
    if stdin_path:
        stdin.close()
    out.seek(0)
    data = out.read()
    out.close()
    return (-9 if killed else p.returncode), data, wall, ru.ru_utime + ru.ru_stime


class CpuWindow:
    """CPU used during a run: by our servers, by the client, and by everything else."""

    def __init__(self, servers):
        self.servers = servers
        self.t0 = time.time()
        self.busy0 = machine_busy_ticks()
        self.nice0 = machine_busy_ticks(niced=True)
        self.srv0 = [s.cpu_ticks() for s in servers]
        self.sleeps0 = [s.sleeps() for s in servers]

    def finish(self, client_cpu_s):
        wall = max(time.time() - self.t0, 1e-6)
        busy = (machine_busy_ticks() - self.busy0) / CLK_TCK
        srv = [(s.cpu_ticks() - a) / CLK_TCK for s, a in zip(self.servers, self.srv0)]
        foreign = max(0.0, busy - sum(srv) - client_cpu_s)
        niced = (machine_busy_ticks(niced=True) - self.nice0) / CLK_TCK
        return {
            "niced_cpu_pct": round(100 * niced / wall, 1),
            "server_cpu_pct": [round(100 * x / wall, 1) for x in srv],
            "server_cpu_s": srv,
            "server_sleeps": [s.sleeps() - a for s, a in zip(self.servers, self.sleeps0)],
            "client_cpu_pct": round(100 * client_cpu_s / wall, 1),
            "foreign_cpu_pct": round(100 * foreign / wall, 1),
        }


def quiet_gate(max_wait, threshold_pct=15.0, window=1.0):
    """Wait (at most max_wait seconds) until the CPU of normal-priority processes stays under
    threshold_pct of one core for `window` seconds.  Returns the seconds waited and the last
    load seen."""
    t0 = time.time()
    load = 0.0
    while True:
        b0 = machine_busy_ticks()
        time.sleep(window)
        load = 100.0 * (machine_busy_ticks() - b0) / CLK_TCK / window
        if load <= threshold_pct or time.time() - t0 >= max_wait:
            return round(time.time() - t0, 1), round(load, 1)


# ---- statistics


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def summary(xs):
    """(median, min, max) of a list of numbers."""
    return (median(xs), min(xs), max(xs)) if xs else (float("nan"),) * 3
