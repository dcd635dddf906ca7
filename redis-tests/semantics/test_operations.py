# SPDX-License-Identifier: BSD-3-Clause
"""Operational behaviour of one node: limits, eviction, shutdown, start-up errors, hardening.

Run: cd redis-tests/semantics && REPRAM_SERVER=... /usr/bin/python3 test_operations.py
"""
import os
import signal
import socket
import subprocess
import tempfile
import time

from harness import SERVER, Conn, RespError, Server, main

SERVER_ARGS = {
    "test_volatile_ttl_evicts_nearest_expiry": ["--maxmemory", "2mb", "--maxmemory-policy", "volatile-ttl"],
    "test_noeviction_refuses_writes": ["--maxmemory", "1mb"],
    "test_maxclients": ["--maxclients", "3"],
    "test_idle_timeout": ["--timeout", "1"],
}


def info(conn, section):
    text = conn.cmd("INFO", section).decode()
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def test_volatile_ttl_evicts_nearest_expiry(s):
    """maxmemory volatile-ttl: writes keep succeeding and the keys nearest to expiry go first"""
    r = s.conn()
    value = "x" * 1000
    # Keys written later get longer TTLs, so the earliest keys are the nearest to expiry.
    for i in range(4000):
        assert r.cmd("SET", "k:%d" % i, value, "EX", 1000 + i) == "OK"
    evicted = int(info(r, "stats")["evicted_keys"])
    assert evicted > 0, "nothing was evicted"
    mem = info(r, "memory")
    assert int(mem["used_memory_dataset"]) <= 2 * 1024 * 1024, mem["used_memory_dataset"]
    # The newest (longest-lived) keys survive, the oldest (shortest) were evicted.
    assert r.cmd("EXISTS", "k:3999") == 1
    assert r.cmd("EXISTS", "k:0") == 0
    remaining = r.cmd("DBSIZE")
    assert remaining + evicted == 4000, (remaining, evicted)
    first_alive = min(i for i in range(4000) if r.cmd("EXISTS", "k:%d" % i))
    assert all(r.cmd("EXISTS", "k:%d" % i) for i in range(first_alive, 4000)), \
        "eviction did not follow expiry order"


def test_noeviction_refuses_writes(s):
    """maxmemory noeviction: at the limit writes get Redis's -OOM text, reads and deletes work"""
    r = s.conn()
    value = "y" * 2000
    i = 0
    err = None
    while i < 5000:
        try:
            r.cmd("SET", "k:%d" % i, value)
        except RespError as e:
            err = str(e)
            break
        i += 1
    assert err == "OOM command not allowed when used memory > 'maxmemory'.", err
    assert r.cmd("GET", "k:0") == value.encode()
    assert r.cmd("DEL", "k:0") == 1
    assert int(info(r, "stats")["evicted_keys"]) == 0


def test_maxclients(s):
    """maxclients 3: the fourth connection is refused with Redis's text"""
    first = s.conn()
    # Wait until the harness's start-up probe connection has been reaped by the server.
    deadline = time.time() + 5
    while int(info(first, "clients")["connected_clients"]) != 1 and time.time() < deadline:
        time.sleep(0.05)
    conns = [first, s.conn(), s.conn()]
    for c in conns:
        assert c.cmd("PING") == "PONG"
    extra = socket.create_connection(("127.0.0.1", s.port), timeout=5)
    data = extra.recv(1024)
    assert data == b"-ERR max number of clients reached\r\n", data
    assert int(info(first, "stats")["rejected_connections"]) == 1
    conns[0].close()
    time.sleep(0.2)
    again = s.conn()
    assert again.cmd("PING") == "PONG"


def test_idle_timeout(s):
    """timeout 1: an idle client is closed after about a second, an active one is not"""
    idle = s.conn()
    busy = s.conn()
    assert idle.cmd("PING") == "PONG"
    deadline = time.time() + 3.5
    while time.time() < deadline:
        assert busy.cmd("PING") == "PONG"
        time.sleep(0.2)
    try:
        idle.cmd("PING")
        closed = False
    except (ConnectionError, OSError):
        closed = True
    assert closed, "idle client was not closed"
    assert busy.cmd("PING") == "PONG"


def test_pipeline_and_slow_reader(s):
    """a 100k-command pipeline is answered in order; a client that never reads does not grow
    the server's memory without bound and does not block others"""
    r = s.conn(timeout=30)
    n = 100000
    r.send(b"".join(Conn.encode("INCR", "counter") for _ in range(n)))
    for i in range(1, n + 1):
        assert r.read() == i
    w = s.conn()
    big = b"z" * (1 << 20)
    assert w.cmd("SET", "big", big) == "OK"
    slow = socket.create_connection(("127.0.0.1", s.port))
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    request = Conn.encode("GET", "big") * 200  # 200 MiB of replies if the server buffered them all
    slow.setblocking(False)
    sent = 0
    deadline = time.time() + 5
    while sent < len(request) and time.time() < deadline:
        try:
            sent += slow.send(request[sent:])
        except BlockingIOError:
            time.sleep(0.01)
    time.sleep(0.5)
    other = s.conn()
    assert other.cmd("PING") == "PONG"
    mem = info(other, "memory")
    assert int(mem["used_memory"]) < 64 * 1024 * 1024, mem["used_memory"]
    slow.close()


def test_pipeline_past_output_high_water(s):
    """pipelined requests whose replies exceed the 1 MiB output high-water mark are all answered
    while the client only reads (regression: processing must resume once the output drains)"""
    r = s.conn(timeout=10)
    assert r.cmd("SET", "k", "v" * 100000) == "OK"
    r.send(Conn.encode("GET", "k") * 60)  # 6 MB of replies, sent before reading any
    for _ in range(60):
        assert r.read() == b"v" * 100000
    assert r.cmd("PING") == "PONG"


def run_server(args, timeout=5, env=None):
    return subprocess.run([SERVER] + args, capture_output=True, text=True, timeout=timeout, env=env)


def test_bad_flag_exits_with_message(s):
    """a bad flag exits 1 and names the flag"""
    p = run_server(["--port", "70000"])
    assert p.returncode == 1, p
    assert "command line option --port: option 'port': '70000' is out of range (0..65535)" in p.stderr, p.stderr
    p = run_server(["--no-such-option", "1"])
    assert p.returncode == 1 and "unknown option '--no-such-option'" in p.stderr, p.stderr


def test_bad_config_file_names_line(s):
    """a bad config file exits 1 and names the file, line and option"""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write("port: 7000\nmaxmemory: lots\n")
        path = f.name
    try:
        p = run_server(["--config", path])
        assert p.returncode == 1, p
        assert "%s:2: option 'maxmemory': invalid memory size 'lots'" % path in p.stderr, p.stderr
    finally:
        os.unlink(path)


def test_bad_environment_names_variable(s):
    """a bad REPRAM_* variable exits 1 and names it"""
    env = dict(os.environ, REPRAM_DEFAULT_TTL="soon")
    p = run_server([], env=env)
    assert p.returncode == 1, p
    assert "environment variable REPRAM_DEFAULT_TTL" in p.stderr, p.stderr


def test_help_and_version(s):
    """--help lists every option of conf/repram.yaml; --version prints the version"""
    p = run_server(["--help"])
    assert p.returncode == 0
    conf = os.path.join(os.path.dirname(__file__), "..", "..", "conf", "repram.yaml")
    names = [line.split(":")[0] for line in open(conf) if line[:1].isalpha()]
    assert names, "no options found in conf/repram.yaml"
    for name in names:
        assert name in p.stdout, "--help does not mention %s" % name
    p = run_server(["--version"])
    assert p.returncode == 0 and p.stdout.startswith("repram-server "), p.stdout


def test_port_in_use(s):
    """a port already in use: exit 1 with a message naming address and port"""
    p = run_server(["--port", str(s.port), "--bind", "127.0.0.1"])
    assert p.returncode == 1, p
    assert "could not listen on 127.0.0.1:%d" % s.port in p.stderr, p.stderr


def test_core_dumps_disabled(s):
    """the process runs with a core-file limit of 0 and is not dumpable"""
    limits = open("/proc/%d/limits" % s.proc.pid).read()
    line = [l for l in limits.splitlines() if l.startswith("Max core file size")][0]
    assert line.split()[4:6] == ["0", "0"], line
    # A non-dumpable process has its /proc files owned by root; the kernel reports it here.
    status = open("/proc/%d/status" % s.proc.pid).read()
    assert "CoreDumping:\t0" in status


def test_sigterm_graceful(s):
    """SIGTERM: requests received before it are answered, then the server exits 0"""
    srv = Server(name="sigterm")
    try:
        r = srv.conn()
        assert r.cmd("SET", "k", "v" * 100000) == "OK"
        r.send(Conn.encode("GET", "k") * 50)
        time.sleep(0.1)
        srv.proc.send_signal(signal.SIGTERM)
        got = 0
        try:
            while got < 50:
                assert r.read() == b"v" * 100000
                got += 1
        except (ConnectionError, OSError):
            pass
        rc = srv.proc.wait(timeout=10)
        assert rc == 0, rc
        assert got == 50, "only %d of 50 replies arrived before shutdown" % got
        log = open(srv.logpath).read()
        assert "received SIGTERM" in log, log
    finally:
        srv.stop()


if __name__ == "__main__":
    main(globals())
