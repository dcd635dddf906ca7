# SPDX-License-Identifier: BSD-3-Clause
"""Limits on what one client can make the server hold (issue 8): query buffer, output buffer
(hard and soft, Redis's client-output-buffer-limit), MULTI queue, SCAN and KEYS per call, key and
value sizes, the stricter parser limits before AUTH, and failed AUTH attempts; each with its exact
error text (or silent close, as Redis) and its counter in INFO (the same counters are on
/metrics: metrics.c exports every one).

Run: cd redis-tests/semantics && REPRAM_SERVER=... /usr/bin/python3 test_limits.py
"""
import socket
import time

from harness import Conn, RespError, main

MB = 1024 * 1024

SERVER_ARGS = {
    "test_query_buffer_limit": ["--client-query-buffer-limit", "1mb"],
    "test_output_buffer_hard_limit": ["--client-output-buffer-limit", "normal 4mb 0 0"],
    "test_output_buffer_soft_limit": ["--client-output-buffer-limit", "normal 0 1mb 1"],
    "test_multi_max_commands": ["--multi-max-commands", "3"],
    "test_multi_queue_bytes": ["--client-query-buffer-limit", "1mb"],
    "test_scan_max_count": ["--scan-max-count", "5"],
    "test_keys_max_reply": ["--keys-max-reply", "10"],
    "test_key_value_size_counted": ["--max-key-size", "8", "--max-value-size", "16"],
    "test_auth_failures_counted": ["--requirepass", "pw"],
    "test_unauthenticated_limits_counted": ["--requirepass", "pw"],
}


def repram_info(conn):
    text = conn.cmd("INFO", "repram").decode()
    return {k: v for k, v in (line.split(":", 1) for line in text.splitlines() if ":" in line)}


def counter(s, name):
    c = s.conn()
    try:
        return int(repram_info(c)[name])
    finally:
        c.close()


def wait_counter(s, name, want, secs=5.0):
    deadline = time.time() + secs
    while True:
        got = counter(s, name)
        if got == want or time.time() > deadline:
            return got
        time.sleep(0.05)


def closed_without_reply(conn, data, timeout=5):
    """Send data (if any); (True, b"") when the server then closes the connection and nothing
    came back, else (False, what came)."""
    got = b""
    try:
        if data:
            conn.send(data)
        conn.sock.settimeout(timeout)
        while True:
            chunk = conn.sock.recv(65536)
            if not chunk:
                break
            got += chunk
    except (ConnectionResetError, BrokenPipeError):
        pass
    except socket.timeout:
        return False, b"(still open) " + got[:80]
    return got == b"", got[:80]


def test_query_buffer_limit(s):
    """client-query-buffer-limit - a client whose buffered request passes the limit is closed
    without a reply, as Redis does; smaller requests still work; counted"""
    r = s.conn()
    value = b"v" * (900 * 1024)
    assert r.cmd("SET", "k", value) == "OK"
    assert r.cmd("STRLEN", "k") == len(value)
    # A bulk bigger than the limit: refused once the bytes buffered pass the limit.
    big = s.conn()
    big.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n")
    try:
        for _ in range(40):
            big.send(b"y" * 32768)
    except OSError:
        pass
    ok, got = closed_without_reply(big, b"")
    assert ok, got
    assert wait_counter(s, "querybuf_limit_closes", 1) == 1
    # Many small requests that never complete a command (an inline line has its own 64 KiB
    # limit, so use an endless multibulk of small arguments).
    slow = s.conn()
    slow.send(b"*100000\r\n")
    try:
        for _ in range(200):
            slow.send(b"$8192\r\n" + b"x" * 8192 + b"\r\n")
    except OSError:
        pass
    ok, got = closed_without_reply(slow, b"")
    assert ok, got
    assert wait_counter(s, "querybuf_limit_closes", 2) == 2
    assert r.cmd("PING") == "PONG"


def test_output_buffer_hard_limit(s):
    """client-output-buffer-limit hard - a reply that would pass <hard> closes the client
    before it is built; smaller replies are untouched; counted"""
    r = s.conn()
    assert r.cmd("SET", "big", b"b" * (5 * MB)) == "OK"
    assert r.cmd("SET", "small", b"s" * (3 * MB)) == "OK"
    assert len(r.cmd("GET", "small")) == 3 * MB
    g = s.conn()
    ok, got = closed_without_reply(g, Conn.encode("GET", "big"))
    assert ok, got
    assert wait_counter(s, "obuf_hard_limit_closes", 1) == 1
    # MGET of values that are each small enough but together are not.
    m = s.conn()
    ok, got = closed_without_reply(m, Conn.encode("MGET", "small", "small"))
    assert ok, got
    assert wait_counter(s, "obuf_hard_limit_closes", 2) == 2
    assert r.cmd("PING") == "PONG"


def test_output_buffer_soft_limit(s):
    """client-output-buffer-limit soft - a client that leaves more than <soft> unread for
    <soft-seconds> is closed; one that reads is not; counted"""
    r = s.conn()
    value = b"v" * (5 * MB)
    for k in ("a", "b", "c"):
        assert r.cmd("SET", k, value) == "OK"
    # A reader: 15 MB arrive at once, above the soft limit only for an instant.
    assert [len(v) for v in r.cmd("MGET", "a", "b", "c")] == [5 * MB] * 3
    # A client that asks and does not read, with a small receive window.
    lazy = socket.socket()
    lazy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    lazy.connect(("127.0.0.1", s.port))
    lazy.sendall(Conn.encode("MGET", "a", "b", "c"))
    got = wait_counter(s, "obuf_soft_limit_closes", 1, secs=6)
    assert got == 1, got
    lazy.settimeout(10)
    total = 0
    while True:
        try:
            chunk = lazy.recv(1 << 20)
        except ConnectionResetError:
            break
        if not chunk:
            break
        total += len(chunk)
    assert total < 15 * MB, total  # the reply was cut off
    assert r.cmd("PING") == "PONG"
    assert counter(s, "obuf_hard_limit_closes") == 0


def test_multi_max_commands(s):
    """multi-max-commands - one command too many is refused with repram's text and EXEC
    then aborts; DISCARD starts afresh; counted"""
    r = s.conn()
    assert r.cmd("MULTI") == "OK"
    for i in range(3):
        assert r.cmd("SET", "k%d" % i, "v") == "QUEUED"
    assert r.cmd_err("SET", "k3", "v") == (
        "ERR MULTI queue is full (multi-max-commands is 3): EXEC or DISCARD")
    assert r.cmd_err("EXEC") == "EXECABORT Transaction discarded because of previous errors."
    assert r.cmd("EXISTS", "k0") == 0
    assert r.cmd("MULTI") == "OK"
    for i in range(3):
        assert r.cmd("SET", "k%d" % i, "v") == "QUEUED"
    assert r.cmd("EXEC") == ["OK", "OK", "OK"]
    assert counter(s, "multi_queue_rejections") == 1
    assert r.cmd("CONFIG", "SET", "multi-max-commands", "0") == "OK"
    assert r.cmd("MULTI") == "OK"
    for i in range(5):
        assert r.cmd("INCR", "n") == "QUEUED"
    assert r.cmd("EXEC") == [1, 2, 3, 4, 5]


def test_multi_queue_bytes(s):
    """MULTI - queued bytes count toward client-query-buffer-limit, with repram's text"""
    r = s.conn()
    value = b"x" * (600 * 1024)
    assert r.cmd("MULTI") == "OK"
    assert r.cmd("SET", "a", value) == "QUEUED"
    assert r.cmd_err("SET", "b", value) == (
        "ERR MULTI queue would exceed client-query-buffer-limit (1048576 bytes): EXEC or DISCARD")
    assert r.cmd("DISCARD") == "OK"
    assert counter(s, "multi_queue_rejections") == 1


def test_scan_max_count(s):
    """scan-max-count - SCAN's COUNT is lowered to the cap, a full iteration still returns
    every key exactly once; counted"""
    r = s.conn()
    for i in range(200):
        r.send(Conn.encode("SET", "key:%d" % i, "v"))
    for i in range(200):
        assert r.read() == "OK"
    # COUNT is a hint in Redis too (a call may return a few more keys than COUNT): the cap
    # shows as about 5 keys per call instead of all 200 at once.
    seen, cursor, calls = [], b"0", 0
    while True:
        cursor, keys = r.cmd("SCAN", cursor, "COUNT", "1000")
        assert len(keys) <= 10, len(keys)
        seen += keys
        calls += 1
        if cursor == b"0":
            break
    assert sorted(seen) == sorted(b"key:%d" % i for i in range(200))
    assert calls >= 20, calls
    clamps = counter(s, "scan_count_clamps")
    assert clamps == calls, (clamps, calls)
    r.cmd("SCAN", "0", "COUNT", "5")  # at the cap: not a clamp
    assert counter(s, "scan_count_clamps") == clamps


def test_keys_max_reply(s):
    """keys-max-reply - KEYS matching more keys is refused with a text naming the option and
    SCAN; smaller replies work; counted"""
    r = s.conn()
    for i in range(20):
        assert r.cmd("SET", "k:%d" % i, "v") == "OK"
    text = "ERR KEYS matched more than keys-max-reply (10) keys: use SCAN instead"
    assert r.cmd_err("KEYS", "*") == text
    assert r.cmd_err("KEYS", "k:1*") == text  # k:1 and k:10..k:19: 11 keys
    assert sorted(r.cmd("KEYS", "k:1?")) == sorted(b"k:1%d" % i for i in range(10))
    assert r.cmd("KEYS", "nothing*") == []
    assert counter(s, "keys_limit_rejections") == 2
    assert r.cmd("CONFIG", "SET", "keys-max-reply", "0") == "OK"
    assert len(r.cmd("KEYS", "*")) == 20


def test_key_value_size_counted(s):
    """max-key-size / max-value-size - each refusal is counted in oversize_rejections
    (nothing is stored)"""
    r = s.conn()
    assert r.cmd_err("SET", "k" * 9, "v") == "ERR key exceeds max-key-size (8 bytes)"
    assert r.cmd_err("SET", "k", "v" * 17) == "ERR value exceeds max-value-size (16 bytes)"
    assert r.cmd_err("APPEND", "k" * 20, "v") == "ERR key exceeds max-key-size (8 bytes)"
    assert r.cmd("SET", "k", "v" * 16) == "OK"
    assert r.cmd_err("APPEND", "k", "v") == "ERR value exceeds max-value-size (16 bytes)"
    assert r.cmd("DBSIZE") == 1
    assert counter(s, "oversize_rejections") == 4


def test_auth_failures_counted(s):
    """AUTH / HELLO AUTH - each WRONGPASS is counted in acl_access_denied_auth
    (INFO stats, Redis's field); right passwords and NOAUTH replies are not"""
    r = s.conn()
    assert r.cmd_err("GET", "k") == "NOAUTH Authentication required."
    wrong = "WRONGPASS invalid username-password pair or user is disabled."
    assert r.cmd_err("AUTH", "nope") == wrong
    assert r.cmd_err("AUTH", "default", "nope") == wrong
    assert r.cmd_err("HELLO", "3", "AUTH", "default", "nope") == wrong
    assert r.cmd("AUTH", "pw") == "OK"
    text = r.cmd("INFO", "stats").decode()
    assert "\r\nacl_access_denied_auth:3\r\n" in text, text


def test_unauthenticated_limits_counted(s):
    """requirepass - the stricter limits before AUTH are counted as protocol errors
    (Redis's texts, connection closed); after AUTH the same lengths work"""
    u = s.conn()
    assert u.raw(b"*11\r\n") == b"-ERR Protocol error: unauthenticated multibulk length\r\n"
    v = s.conn()
    out = v.raw(b"*1\r\n$20000\r\n")
    assert out == b"-ERR Protocol error: unauthenticated bulk length\r\n", out
    r = s.conn()
    assert r.cmd("AUTH", "pw") == "OK"
    assert wait_field(r, "repram", "protocol_errors", 2) == 2
    assert r.cmd("SET", "k", b"x" * 20000) == "OK"
    assert r.cmd("MSET", *["a", "b"] * 6) == "OK"


def wait_field(r, section, name, want, secs=5.0):
    """Poll INFO <section> on connection r until field `name` is `want` (or secs pass)."""
    deadline = time.time() + secs
    while True:
        text = r.cmd("INFO", section).decode()
        got = int(dict(line.split(":", 1) for line in text.splitlines() if ":" in line)[name])
        if got == want or time.time() > deadline:
            return got
        time.sleep(0.05)


def test_limit_options_config(s):
    """CONFIG GET/SET - the limit options, with Redis's syntax for client-output-buffer-limit"""
    r = s.conn()
    assert r.cmd("CONFIG", "GET", "client-output-buffer-limit") == [
        b"client-output-buffer-limit", b"normal 268435456 67108864 60"]
    assert r.cmd("CONFIG", "SET", "client-output-buffer-limit",
                 "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60") == "OK"
    assert r.cmd("CONFIG", "GET", "client-output-buffer-limit")[1] == b"normal 0 0 0"
    assert r.cmd_err("CONFIG", "SET", "client-output-buffer-limit", "normal 1 2") == (
        "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - "
        "expected '[normal] <hard> <soft> <soft-seconds>' (e.g. 'normal 256mb 64mb 60')")
    for name, default in (("multi-max-commands", b"10000"), ("scan-max-count", b"10000"),
                          ("keys-max-reply", b"100000"), ("protected-mode", b"yes"),
                          ("tls-port", b"0"), ("lock-memory", b"no")):
        assert r.cmd("CONFIG", "GET", name) == [name.encode(), default], name
    assert r.cmd_err("CONFIG", "SET", "tls-port", "7000") == (
        "ERR CONFIG SET failed (possibly related to argument 'tls-port') - can't set immutable "
        "config")
    info = repram_info(r)
    for name in ("obuf_hard_limit_closes", "obuf_soft_limit_closes", "multi_queue_rejections",
                 "scan_count_clamps", "keys_limit_rejections", "protected_mode_rejections",
                 "tls_handshake_failures", "tls_handshake_timeouts", "querybuf_limit_closes",
                 "oversize_rejections"):
        assert info[name] == "0", (name, info.get(name))


if __name__ == "__main__":
    main(globals())
