# SPDX-License-Identifier: BSD-3-Clause
"""repram's own rules for the keys-and-TTL family (server/cmd_keys.c), where they differ from
Redis by design (DESIGN.md section 4): every key has a TTL, PERSIST is refused, max-ttl caps
EXPIRE (or clamps it with ttl-clamp yes), one database, and expired keys are invisible and
reclaimed by active expiry.  Redis's own behaviour for these commands is covered by the Tcl suite.

Run: cd redis-tests/semantics && REPRAM_SERVER=.../repram-server /usr/bin/python3 test_keys.py
"""
import time

from harness import RespError, main

SERVER_ARGS = {
    "test_expire_beyond_max_ttl_refused": ["--max-ttl", "100", "--default-ttl", "50"],
    "test_expire_ttl_clamp": ["--max-ttl", "100", "--default-ttl", "50", "--ttl-clamp", "yes"],
    "test_rename_copy_key_size_limit": ["--max-key-size", "10"],
    "test_active_expiry_20k": [],
}

DEFAULT_TTL = 3600


def now_ms():
    return int(time.time() * 1000)


def pipeline(r, cmds):
    """Send every command in one write and return the replies (errors as RespError)."""
    r.send(b"".join(r.encode(*c) for c in cmds))
    return [r.read() for _ in cmds]


def test_ttl_never_minus_one(s):
    """TTL/PTTL/EXPIRETIME/PEXPIRETIME - a key set without a TTL has default-ttl, never -1"""
    r = s.conn()
    r.cmd("FLUSHALL")
    assert r.cmd("SET", "k", "v") == "OK"
    before = now_ms()
    assert r.cmd("TTL", "k") in (DEFAULT_TTL, DEFAULT_TTL - 1)
    pttl = r.cmd("PTTL", "k")
    assert DEFAULT_TTL * 1000 - 2000 < pttl <= DEFAULT_TTL * 1000, pttl
    pat = r.cmd("PEXPIRETIME", "k")
    assert before + DEFAULT_TTL * 1000 - 2000 <= pat <= now_ms() + DEFAULT_TTL * 1000 + 10, pat
    assert r.cmd("EXPIRETIME", "k") == (pat + 500) // 1000
    for c in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"):
        assert r.cmd(c, "missing") == -2
    # A plain SET over a key with a short TTL gives it default-ttl, not "no TTL".
    r.cmd("SET", "k", "v", "EX", "10")
    r.cmd("SET", "k", "v2")
    assert r.cmd("TTL", "k") >= DEFAULT_TTL - 1


def test_expire_conditions(s):
    """EXPIRE NX/XX/GT/LT - every key has an expiry: NX never sets, XX always does"""
    r = s.conn()
    r.cmd("FLUSHALL")
    r.cmd("SET", "k", "v")  # default-ttl 3600
    assert r.cmd("EXPIRE", "k", "100", "NX") == 0
    assert r.cmd("TTL", "k") >= DEFAULT_TTL - 1
    assert r.cmd("EXPIRE", "k", "100", "XX") == 1
    assert r.cmd("TTL", "k") == 100
    assert r.cmd("EXPIRE", "k", "50", "GT") == 0
    assert r.cmd("EXPIRE", "k", "200", "GT") == 1
    assert r.cmd("TTL", "k") == 200
    assert r.cmd("EXPIRE", "k", "300", "LT") == 0
    assert r.cmd("EXPIRE", "k", "150", "LT", "XX") == 1
    assert r.cmd("TTL", "k") == 150
    assert r.cmd("PEXPIRE", "k", "100000", "NX") == 0
    assert r.cmd("PTTL", "k") > 100000
    # Missing keys: 0 whatever the condition.
    for flag in ("NX", "XX", "GT", "LT"):
        assert r.cmd("EXPIRE", "missing", "100", flag) == 0
    # The conflict and option errors are Redis's.
    assert r.cmd_err("EXPIRE", "k", "10", "NX", "XX") == \
        "ERR NX and XX, GT or LT options at the same time are not compatible"
    assert r.cmd_err("EXPIRE", "k", "10", "GT", "LT") == \
        "ERR GT and LT options at the same time are not compatible"
    assert r.cmd_err("EXPIRE", "k", "10", "FOO") == "ERR Unsupported option FOO"


def test_persist_refused(s):
    """PERSIST - refused with repram's text, for existing and missing keys, TTL unchanged"""
    r = s.conn()
    r.cmd("FLUSHALL")
    r.cmd("SET", "k", "v", "EX", "100")
    text = "ERR keys cannot be made persistent: every key has a time to live"
    assert r.cmd_err("PERSIST", "k") == text
    assert r.cmd_err("PERSIST", "missing") == text
    assert r.cmd("TTL", "k") == 100
    assert r.cmd_err("PERSIST") == "ERR wrong number of arguments for 'persist' command"
    assert r.raw(r.encode("PERSIST", "k"), expect_bytes=len(text) + 3) == \
        b"-" + text.encode() + b"\r\n"


def test_expire_beyond_max_ttl_refused(s):
    """EXPIRE family - a TTL beyond max-ttl is refused with the exact text, old TTL kept"""
    r = s.conn()
    r.cmd("SET", "k", "v", "EX", "50")
    old = r.cmd("PEXPIRETIME", "k")
    now_s = int(time.time())
    cases = [
        ("EXPIRE", "101", "expire"),
        ("PEXPIRE", "100001", "pexpire"),
        ("EXPIREAT", str(now_s + 200), "expireat"),
        ("PEXPIREAT", str((now_s + 200) * 1000), "pexpireat"),
    ]
    for cmd, val, name in cases:
        err = r.cmd_err(cmd, "k", val)
        assert err == "ERR expire time exceeds max-ttl (100 seconds) in '%s' command" % name, err
        assert r.cmd("PEXPIRETIME", "k") == old
    # Checked before the key is looked up, like Redis's own "invalid expire time".
    assert r.cmd_err("EXPIRE", "missing", "101").startswith("ERR expire time exceeds max-ttl")
    assert r.cmd_err("EXPIRE", "k", "101", "NX").startswith("ERR expire time exceeds max-ttl")
    # Exactly max-ttl is fine; overflow keeps Redis's text.
    assert r.cmd("EXPIRE", "k", "100") == 1
    assert r.cmd_err("EXPIRE", "k", "9223372036854775807") == \
        "ERR invalid expire time in 'expire' command"


def test_expire_ttl_clamp(s):
    """EXPIRE family - with ttl-clamp yes a TTL beyond max-ttl is lowered to max-ttl"""
    r = s.conn()
    r.cmd("SET", "k", "v", "EX", "10")
    assert r.cmd("EXPIRE", "k", "100000") == 1
    assert r.cmd("TTL", "k") == 100
    r.cmd("EXPIRE", "k", "10")
    assert r.cmd("PEXPIREAT", "k", str(now_ms() + 10 ** 9)) == 1
    assert 99000 < r.cmd("PTTL", "k") <= 100000
    # GT compares with the clamped expiry: already at max-ttl, nothing is later.
    assert r.cmd("EXPIRE", "k", "100000", "GT") in (0, 1)
    assert r.cmd("TTL", "k") == 100


def test_expire_in_past_deletes(s):
    """EXPIRE family - a time in the past deletes the key and replies 1"""
    r = s.conn()
    r.cmd("FLUSHALL")
    for cmd, val in (("EXPIRE", "-1"), ("PEXPIRE", "0"), ("EXPIREAT", "1"),
                     ("PEXPIREAT", "-9223372036854770000"), ("EXPIRE", "0")):
        r.cmd("SET", "k", "v", "EX", "100")
        assert r.cmd(cmd, "k", val) == 1, (cmd, val)
        assert r.cmd("EXISTS", "k") == 0
        assert r.cmd("TTL", "k") == -2
    assert r.cmd("EXPIRE", "missing", "-1") == 0
    r.cmd("SET", "k", "v", "EX", "100")
    assert r.cmd("EXPIRE", "k", "-10", "LT") == 1
    assert r.cmd("EXISTS", "k") == 0


def test_rename_copy_keep_expiry(s):
    """RENAME/RENAMENX/COPY - the destination keeps the source's absolute expiry"""
    r = s.conn()
    r.cmd("FLUSHALL")
    r.cmd("SET", "a", "va", "PX", "50000")
    at = r.cmd("PEXPIRETIME", "a")
    assert r.cmd("RENAME", "a", "b") == "OK"
    assert r.cmd("PEXPIRETIME", "b") == at and r.cmd("EXISTS", "a") == 0
    assert r.cmd("RENAMENX", "b", "c") == 1
    assert r.cmd("PEXPIRETIME", "c") == at
    r.cmd("SET", "d", "vd", "EX", "7000")
    assert r.cmd("RENAME", "c", "d") == "OK"  # overwrites, with c's expiry, not d's
    assert r.cmd("PEXPIRETIME", "d") == at and r.cmd("GET", "d") == b"va"
    assert r.cmd("COPY", "d", "e") == 1
    assert r.cmd("PEXPIRETIME", "e") == at and r.cmd("GET", "e") == b"va"
    r.cmd("SET", "f", "vf", "EX", "10")
    assert r.cmd("COPY", "d", "f") == 0
    assert r.cmd("COPY", "d", "f", "REPLACE") == 1
    assert r.cmd("PEXPIRETIME", "f") == at
    assert r.cmd("COPY", "d", "g", "DB", "0") == 1
    assert r.cmd_err("COPY", "d", "g", "DB", "1") == "ERR DB index is out of range"
    assert r.cmd_err("RENAME", "missing", "x") == "ERR no such key"
    assert r.cmd("RENAME", "d", "d") == "OK"


def test_rename_copy_key_size_limit(s):
    """RENAME/COPY - the destination name obeys max-key-size; the source is left intact"""
    r = s.conn()
    r.cmd("SET", "src", "v", "EX", "100")
    err = r.cmd_err("RENAME", "src", "a-very-long-name")
    assert err == "ERR key exceeds max-key-size (10 bytes)", err
    assert r.cmd_err("COPY", "src", "a-very-long-name") == err
    assert r.cmd("GET", "src") == b"v"
    assert r.cmd("EXISTS", "a-very-long-name") == 0


def test_type_and_scan_type(s):
    """TYPE / SCAN TYPE - every key is a string; TYPE string matches all, others none"""
    r = s.conn()
    r.cmd("FLUSHALL")
    pipeline(r, [("SET", "t%d" % i, "v") for i in range(50)])
    assert r.cmd("TYPE", "t1") == "string" and r.cmd("TYPE", "missing") == "none"
    for typ, expect in (("string", 50), ("STRING", 50), ("list", 0), ("none", 0), ("foo", 0)):
        cur, seen = b"0", []
        while True:
            cur, keys = r.cmd("SCAN", cur, "TYPE", typ)
            seen += keys
            if cur == b"0":
                break
        assert len(set(seen)) == expect, (typ, len(set(seen)))


def test_keys_scan_hide_expired(s):
    """KEYS/SCAN/RANDOMKEY/EXISTS - a key is invisible from the millisecond its expiry passes"""
    r = s.conn()
    r.cmd("FLUSHALL")
    pipeline(r, [("SET", "live%d" % i, "v", "EX", "100") for i in range(20)])
    deadline = now_ms() + 150
    pipeline(r, [("SET", "dead%d" % i, "v", "PXAT", str(deadline)) for i in range(500)])
    # Before the deadline they are visible (the check is not vacuous).
    if now_ms() < deadline - 50:
        assert len(r.cmd("KEYS", "*")) == 520
    # From the deadline on (by this client's clock, which is the server's: same host, same
    # CLOCK_REALTIME) none may show, whether or not active expiry has removed them yet.  One
    # millisecond of slack covers rounding to whole milliseconds on both sides.
    while now_ms() < deadline + 1:
        time.sleep(0.0005)
    end = time.time() + 0.3
    while time.time() < end:
        keys = r.cmd("KEYS", "*")
        assert all(k.startswith(b"live") for k in keys), [k for k in keys if k.startswith(b"dead")][:5]
        cur, seen = b"0", []
        while True:
            cur, part = r.cmd("SCAN", cur, "COUNT", "7")
            seen += part
            if cur == b"0":
                break
        assert sorted(set(seen)) == sorted(keys), "SCAN and KEYS disagree"
        assert not any(k.startswith(b"dead") for k in r.cmd("SCAN", "0", "MATCH", "dead*", "COUNT", "1000")[1])
        assert r.cmd("RANDOMKEY").startswith(b"live")
        assert r.cmd("EXISTS", "dead1") == 0 and r.cmd("TTL", "dead2") == -2
    assert r.cmd("DBSIZE") == 20


def test_active_expiry_px50(s):
    """Active expiry - keys set with PX 50 leave DBSIZE within 200 ms, never accessed"""
    r = s.conn()
    r.cmd("FLUSHALL")
    start = time.time()
    pipeline(r, [("SET", "e%d" % i, "v", "PX", "50") for i in range(100)])
    while r.cmd("DBSIZE") != 0:
        assert time.time() - start < 0.2, "keys still counted after 200 ms: %d" % r.cmd("DBSIZE")
        time.sleep(0.005)


def test_active_expiry_20k(s):
    """Active expiry - 20k keys with a 200 ms TTL are all gone within 300 ms of their deadline"""
    r = s.conn()
    n = 20000
    pipeline(r, [("SET", "bulk:%d" % i, "x" * 16, "PX", "200") for i in range(n)])
    latest_deadline = time.time() + 0.2  # every key was stored before its reply arrived
    size = r.cmd("DBSIZE")
    assert size == n or time.time() > latest_deadline - 0.19, size
    while True:
        size = r.cmd("DBSIZE")
        if size == 0:
            break
        assert time.time() < latest_deadline + 0.3, "%d keys left 300 ms after the deadline" % size
        time.sleep(0.005)
    assert r.cmd("KEYS", "*") == []


def test_keys_scan_large(s):
    """KEYS/SCAN - every key exactly once from KEYS, at least once from a full SCAN"""
    r = s.conn()
    r.cmd("FLUSHALL")
    n = 5000
    pipeline(r, [("SET", "key:%d" % i, "v") for i in range(n)])
    keys = r.cmd("KEYS", "*")
    assert len(keys) == n and len(set(keys)) == n
    assert sorted(r.cmd("KEYS", "key:1??")) == sorted(b"key:%d" % i for i in range(100, 200))
    for count in ("1", "10", "1000"):
        cur, seen = b"0", []
        while True:
            cur, part = r.cmd("SCAN", cur, "COUNT", count)
            seen += part
            if cur == b"0":
                break
        assert len(set(seen)) == n, (count, len(set(seen)))
    assert r.cmd("DBSIZE") == n
    assert r.cmd("FLUSHDB", "ASYNC") == "OK" and r.cmd("DBSIZE") == 0


if __name__ == "__main__":
    main(globals())
