# SPDX-License-Identifier: BSD-3-Clause
"""repram's own rules for the string family (server/cmd_string.c), black box over TCP.

Redis's behaviour is covered by Redis's Tcl suite; this file checks only what repram does
differently by design (DESIGN.md section 4): every key has a TTL (default-ttl for writes that
name none, kept by in-place edits, capped by max-ttl), PERSIST is refused, and keys and values
have size limits.  Run: cd redis-tests/semantics && REPRAM_SERVER=... /usr/bin/python3 test_strings.py
"""
import time

from harness import main

DEFAULT_TTL = 3600      # the built-in default-ttl, seconds
MAX_TTL = 604800        # the built-in max-ttl, seconds
PERSIST_ERR = "ERR keys cannot be made persistent: every key has a time to live"

SERVER_ARGS = {
    "test_ttl_clamp": ["--ttl-clamp", "yes", "--max-ttl", "100", "--default-ttl", "50"],
    "test_custom_default_and_max_ttl": ["--default-ttl", "50", "--max-ttl", "100"],
    "test_max_key_size": ["--max-key-size", "8"],
    "test_max_value_size": ["--max-value-size", "16"],
    "test_max_value_size_growth": ["--max-value-size", "16"],
}


def assert_ttl(r, key, lo, hi):
    """TTL of key (seconds) within [lo, hi]."""
    t = r.cmd("TTL", key)
    assert lo <= t <= hi, "TTL %s = %r, expected %d..%d" % (key, t, lo, hi)


def assert_default_ttl(r, key, default=DEFAULT_TTL):
    assert_ttl(r, key, default - 1, default)


def assert_absent(r, *keys):
    for k in keys:
        assert r.cmd("EXISTS", k) == 0, "key %r should not exist" % k


def assert_alive(r):
    """The connection has no stray reply queued (a command replied exactly once)."""
    assert r.cmd("PING") == "PONG"


def test_default_ttl_on_writes(s):
    """strings - writes that name no TTL get default-ttl"""
    r = s.conn()
    assert r.cmd("SET", "d:set", "v") == "OK"
    assert r.cmd("SETNX", "d:setnx", "v") == 1
    assert r.cmd("GETSET", "d:getset", "v") is None
    assert r.cmd("MSET", "d:mset1", "a", "d:mset2", "b") == "OK"
    assert r.cmd("MSETNX", "d:msetnx1", "a", "d:msetnx2", "b") == 1
    assert r.cmd("INCR", "d:incr") == 1
    assert r.cmd("INCRBY", "d:incrby", 5) == 5
    assert r.cmd("DECR", "d:decr") == -1
    assert r.cmd("DECRBY", "d:decrby", 5) == -5
    assert r.cmd("INCRBYFLOAT", "d:float", "1.5") == b"1.5"
    assert r.cmd("APPEND", "d:append", "abc") == 3
    assert r.cmd("SETRANGE", "d:setrange", 0, "abc") == 3
    assert r.cmd("SETRANGE", "d:setrange2", 4, "abc") == 7
    assert r.cmd("SET", "d:keepttl", "v", "KEEPTTL") == "OK"
    assert r.cmd("SET", "d:nx", "v", "NX") == "OK"
    assert r.cmd("SET", "d:get", "v", "GET") is None
    for k in ("d:set", "d:setnx", "d:getset", "d:mset1", "d:mset2", "d:msetnx1", "d:msetnx2",
              "d:incr", "d:incrby", "d:decr", "d:decrby", "d:float", "d:append", "d:setrange",
              "d:setrange2", "d:keepttl", "d:nx", "d:get"):
        assert_default_ttl(r, k)


def test_in_place_edits_keep_ttl(s):
    """strings - INCR family, APPEND and SETRANGE keep an existing key's TTL"""
    r = s.conn()
    cases = [
        ("INCR", "k:incr", "5", ()),
        ("INCR", "k:incr9", "9", ()),            # 9 -> 10 changes the length
        ("INCRBY", "k:incrby", "5", (100,)),
        ("DECR", "k:decr", "10", ()),            # 10 -> 9 shrinks
        ("DECRBY", "k:decrby", "5", (3,)),
        ("INCRBYFLOAT", "k:float", "1.5", ("0.25",)),
        ("APPEND", "k:append", "abc", ("defghij",)),
        ("APPEND", "k:append0", "abc", ("",)),
        ("SETRANGE", "k:setrange", "abcdef", (1, "XY")),      # within the value
        ("SETRANGE", "k:setrange2", "abc", (10, "XY")),       # grows it
    ]
    for cmd, key, initial, args in cases:
        assert r.cmd("SET", key, initial, "EX", 100) == "OK"
        r.cmd(cmd, key, *args)
        assert_ttl(r, key, 98, 100)
    assert r.cmd("GET", "k:incr9") == b"10"
    assert r.cmd("GET", "k:decr") == b"9"
    assert r.cmd("GET", "k:setrange2") == b"abc" + b"\0" * 7 + b"XY"


def test_set_resets_ttl(s):
    """strings - SET, GETSET and MSET without a TTL reset an existing key to default-ttl"""
    r = s.conn()
    for cmd in (("SET", "r:k", "v2"), ("GETSET", "r:k", "v3"), ("MSET", "r:k", "v4"),
                ("SET", "r:k", "v5", "XX"), ("SET", "r:k", "v6", "GET")):
        assert r.cmd("SET", "r:k", "v", "EX", 100) == "OK"
        r.cmd(*cmd)
        assert_default_ttl(r, "r:k")


def test_keepttl(s):
    """strings - SET KEEPTTL keeps the TTL of an existing key, default-ttl for a new one"""
    r = s.conn()
    assert r.cmd("SET", "kt", "v", "EX", 100) == "OK"
    assert r.cmd("SET", "kt", "w", "KEEPTTL") == "OK"
    assert r.cmd("GET", "kt") == b"w"
    assert_ttl(r, "kt", 98, 100)
    assert r.cmd("SET", "kt", "x", "KEEPTTL", "GET") == b"w"
    assert_ttl(r, "kt", 98, 100)
    assert r.cmd("SET", "kt:new", "v", "KEEPTTL") == "OK"
    assert_default_ttl(r, "kt:new")


def test_max_ttl_refused(s):
    """strings - a TTL above max-ttl is refused with repram's text and nothing is stored"""
    r = s.conn()
    now = int(time.time())
    over = [
        ("set", ("SET", "m:1", "v", "EX", MAX_TTL + 1)),
        ("set", ("SET", "m:1", "v", "PX", (MAX_TTL + 1) * 1000)),
        ("set", ("SET", "m:1", "v", "EXAT", now + MAX_TTL + 100)),
        ("set", ("SET", "m:1", "v", "PXAT", (now + MAX_TTL + 100) * 1000)),
        ("set", ("SET", "m:1", "v", "EX", MAX_TTL + 1, "GET")),
        ("setex", ("SETEX", "m:1", MAX_TTL + 1, "v")),
        ("psetex", ("PSETEX", "m:1", (MAX_TTL + 1) * 1000, "v")),
    ]
    for name, cmd in over:
        err = r.cmd_err(*cmd)
        assert err == "ERR expire time exceeds max-ttl (%d seconds) in '%s' command" % (
            MAX_TTL, name), err
        assert_absent(r, "m:1")
    assert_alive(r)
    # An existing key is left as it was.
    assert r.cmd("SET", "m:2", "old", "EX", 100) == "OK"
    assert r.cmd_err("SET", "m:2", "new", "EX", MAX_TTL + 1).startswith("ERR expire time exceeds")
    assert r.cmd_err("GETEX", "m:2", "EX", MAX_TTL + 1) == \
        "ERR expire time exceeds max-ttl (%d seconds) in 'getex' command" % MAX_TTL
    assert r.cmd("GET", "m:2") == b"old"
    assert_ttl(r, "m:2", 98, 100)
    # Exactly max-ttl is fine.
    assert r.cmd("SET", "m:3", "v", "EX", MAX_TTL) == "OK"
    assert_ttl(r, "m:3", MAX_TTL - 1, MAX_TTL)
    # Redis's own checks come first.
    assert r.cmd_err("SET", "m:1", "v", "EX", 0) == "ERR invalid expire time in 'set' command"
    assert r.cmd_err("SET", "m:1", "v", "EX", "9223372036854775807") == \
        "ERR invalid expire time in 'set' command"


def test_ttl_clamp(s):
    """strings - with ttl-clamp yes a TTL above max-ttl is lowered to max-ttl"""
    r = s.conn()
    assert r.cmd("SET", "c:1", "v", "EX", 1000) == "OK"
    assert_ttl(r, "c:1", 99, 100)
    assert r.cmd("SETEX", "c:2", 1000, "v") == "OK"
    assert_ttl(r, "c:2", 99, 100)
    assert r.cmd("PSETEX", "c:3", 1000000, "v") == "OK"
    assert_ttl(r, "c:3", 99, 100)
    assert r.cmd("GETEX", "c:1", "EXAT", int(time.time()) + 5000) == b"v"
    assert_ttl(r, "c:1", 99, 100)


def test_getex_persist_refused(s):
    """strings - GETEX PERSIST is refused after the syntax check; the key is unchanged"""
    r = s.conn()
    assert r.cmd("SET", "p:1", "v", "EX", 100) == "OK"
    assert r.cmd_err("GETEX", "p:1", "PERSIST") == PERSIST_ERR
    assert r.cmd_err("getex", "p:1", "persist") == PERSIST_ERR
    assert r.cmd_err("GETEX", "p:missing", "PERSIST") == PERSIST_ERR
    assert_ttl(r, "p:1", 98, 100)
    assert r.cmd("GET", "p:1") == b"v"
    # Syntax errors keep Redis's precedence.
    assert r.cmd_err("GETEX", "p:1", "PERSIST", "EX", 10) == "ERR syntax error"
    assert r.cmd_err("GETEX", "p:1", "EX", 10, "PERSIST") == "ERR syntax error"
    assert r.cmd_err("GETEX", "p:1", "PERSIST", "FOO") == "ERR syntax error"
    assert r.cmd_err("SET", "p:1", "v", "PERSIST") == "ERR syntax error"
    assert_ttl(r, "p:1", 98, 100)
    assert_alive(r)


def test_max_key_size(s):
    """strings - a key over max-key-size is refused with repram's text and nothing is stored"""
    r = s.conn()
    err = "ERR key exceeds max-key-size (8 bytes)"
    long_key = "k" * 9
    assert r.cmd("SET", "k" * 8, "v") == "OK"
    for cmd in (("SET", long_key, "v"), ("SET", long_key, "v", "NX"), ("SET", long_key, "v", "GET"),
                ("SET", long_key, "v", "EX", 10), ("SETEX", long_key, 10, "v"),
                ("PSETEX", long_key, 10000, "v"), ("SETNX", long_key, "v"),
                ("GETSET", long_key, "v"), ("INCR", long_key), ("INCRBY", long_key, 2),
                ("DECR", long_key), ("DECRBY", long_key, 2), ("INCRBYFLOAT", long_key, "1.5"),
                ("APPEND", long_key, "v"), ("SETRANGE", long_key, 0, "v"),
                ("SETRANGE", long_key, 3, "v"), ("MSET", "ok", "1", long_key, "v"),
                ("MSETNX", "ok", "1", long_key, "v")):
        assert r.cmd_err(*cmd) == err, cmd
        assert_absent(r, long_key, "ok")
    assert_alive(r)


def test_max_value_size(s):
    """strings - a value over max-value-size is refused with repram's text and nothing is stored"""
    r = s.conn()
    err = "ERR value exceeds max-value-size (16 bytes)"
    big = "x" * 17
    assert r.cmd("SET", "v:ok", "y" * 16) == "OK"
    for cmd in (("SET", "v:1", big), ("SET", "v:1", big, "EX", 10), ("SET", "v:1", big, "NX"),
                ("SET", "v:1", big, "GET"), ("SETEX", "v:1", 10, big),
                ("PSETEX", "v:1", 10000, big), ("SETNX", "v:1", big), ("GETSET", "v:1", big),
                ("APPEND", "v:1", big), ("SETRANGE", "v:1", 0, big), ("SETRANGE", "v:1", 14, "abc"),
                ("MSET", "v:2", "a", "v:1", big), ("MSETNX", "v:2", "a", "v:1", big)):
        assert r.cmd_err(*cmd) == err, cmd
        assert_absent(r, "v:1", "v:2")
    assert_alive(r)
    # An existing key keeps its value; SET ... GET and GETSET reply only the error.
    assert r.cmd("SET", "v:3", "old", "EX", 100) == "OK"
    for cmd in (("SET", "v:3", big), ("SET", "v:3", big, "GET"), ("GETSET", "v:3", big),
                ("SET", "v:3", big, "XX", "GET")):
        assert r.cmd_err(*cmd) == err, cmd
        assert_alive(r)
    assert r.cmd("GET", "v:3") == b"old"
    assert_ttl(r, "v:3", 98, 100)


def test_max_value_size_growth(s):
    """strings - APPEND and SETRANGE may not grow a value past max-value-size"""
    r = s.conn()
    err = "ERR value exceeds max-value-size (16 bytes)"
    assert r.cmd("SET", "g:1", "a" * 10, "EX", 100) == "OK"
    assert r.cmd_err("APPEND", "g:1", "b" * 7) == err
    assert r.cmd_err("SETRANGE", "g:1", 10, "b" * 7) == err
    assert r.cmd_err("SETRANGE", "g:1", 100, "b") == err
    assert r.cmd("GET", "g:1") == b"a" * 10
    assert_ttl(r, "g:1", 98, 100)
    assert r.cmd("APPEND", "g:1", "b" * 6) == 16
    assert r.cmd("SETRANGE", "g:1", 15, "c") == 16
    assert r.cmd("GET", "g:1") == b"a" * 10 + b"b" * 5 + b"c"
    assert_ttl(r, "g:1", 98, 100)
    # Redis's proto-max-bulk-len check comes first.
    assert r.cmd_err("SETRANGE", "g:1", 536870908, "world") == \
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    assert r.cmd_err("SETRANGE", "g:new", "9223372036854775807", "A") == \
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    assert_absent(r, "g:new")
    # An INCRBYFLOAT result longer than the limit is refused too.
    assert r.cmd("SET", "g:f", "1", "EX", 100) == "OK"
    assert r.cmd_err("INCRBYFLOAT", "g:f", "1e20") == err
    assert r.cmd("GET", "g:f") == b"1"
    assert_alive(r)


def test_custom_default_and_max_ttl(s):
    """strings - --default-ttl and --max-ttl are honoured"""
    r = s.conn()
    assert r.cmd("SET", "t:1", "v") == "OK"
    assert_default_ttl(r, "t:1", 50)
    assert r.cmd("INCR", "t:2") == 1
    assert_default_ttl(r, "t:2", 50)
    assert r.cmd("MSET", "t:3", "a") == "OK"
    assert_default_ttl(r, "t:3", 50)
    assert r.cmd("SET", "t:4", "v", "EX", 100) == "OK"
    assert_ttl(r, "t:4", 99, 100)
    assert r.cmd_err("SET", "t:5", "v", "EX", 101) == \
        "ERR expire time exceeds max-ttl (100 seconds) in 'set' command"
    assert r.cmd_err("SETEX", "t:5", 101, "v") == \
        "ERR expire time exceeds max-ttl (100 seconds) in 'setex' command"
    assert_absent(r, "t:5")


def test_expired_key_is_absent_for_writes(s):
    """strings - a write on a key whose TTL has passed behaves as if the key did not exist"""
    r = s.conn()
    for k in ("e:incr", "e:append", "e:setnx", "e:nx", "e:setrange", "e:keepttl", "e:msetnx"):
        assert r.cmd("SET", k, "5", "PX", 50) == "OK"
    time.sleep(0.2)
    assert r.cmd("INCR", "e:incr") == 1
    assert r.cmd("APPEND", "e:append", "ab") == 2
    assert r.cmd("SETNX", "e:setnx", "x") == 1
    assert r.cmd("SET", "e:nx", "x", "NX") == "OK"
    assert r.cmd("SETRANGE", "e:setrange", 1, "x") == 2
    assert r.cmd("SET", "e:keepttl", "x", "KEEPTTL") == "OK"
    assert r.cmd("MSETNX", "e:msetnx", "x") == 1
    for k in ("e:incr", "e:append", "e:setnx", "e:nx", "e:setrange", "e:keepttl", "e:msetnx"):
        assert_default_ttl(r, k)


def test_expiry_in_the_past_deletes(s):
    """strings - SET/GETEX with EXAT or PXAT in the past delete the key, as Redis does"""
    r = s.conn()
    assert r.cmd("SET", "x:1", "v") == "OK"
    assert r.cmd("SET", "x:1", "w", "EXAT", 1) == "OK"
    assert_absent(r, "x:1")
    assert r.cmd("SET", "x:2", "v") == "OK"
    assert r.cmd("SET", "x:2", "w", "PXAT", 1000, "GET") == b"v"
    assert_absent(r, "x:2")
    assert r.cmd("SET", "x:3", "v") == "OK"
    assert r.cmd("GETEX", "x:3", "EXAT", 1) == b"v"
    assert_absent(r, "x:3")


if __name__ == "__main__":
    main(globals())
