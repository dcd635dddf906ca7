# SPDX-License-Identifier: BSD-3-Clause
"""repram's connection, server and transaction commands (server/cmd_conn.c, cmd_server.c,
cmd_command.c, cmd_multi.c, info.c) where a Tcl suite run against an external server cannot
reach them: requirepass flows (Redis's auth.tcl is external:skip), CONFIG GET/SET of repram's own
options and their effect, INFO figures moving, CLIENT SETINFO (Redis 7.2), RESET, REPRAM
STATUS/NODES, WATCH across two connections, SHUTDOWN.

Run: cd redis-tests/semantics && REPRAM_SERVER=.../repram-server /usr/bin/python3 test_server.py
"""
import time

from harness import RespError, free_port, main

PASSWORD = "s3cret pass"

SERVER_ARGS = {
    "test_auth_required": ["--requirepass", PASSWORD],
    "test_auth_hello3": ["--requirepass", PASSWORD],
    "test_auth_reset_and_config": ["--requirepass", PASSWORD],
    "test_config_maxmemory": [],
    "test_shutdown": [],
    # 16 seeds (the most allowed) with 200-character names that resolve nowhere: their peer
    # lines alone make INFO repram longer than 4 KiB
    "test_info_many_peers_whole": ["--cluster-size", "3", "--cluster-insecure", "yes",
                                   "--cluster-port", str(free_port()), "--node-name", "n1", "--seeds",
                                   " ".join("p%02d-%s.invalid:%d" % (i, "x" * 200, 20000 + i)
                                            for i in range(16))],
}

WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
NOAUTH = "NOAUTH Authentication required."


def pipeline(r, cmds):
    """Send every command in one write and return the replies (errors as RespError)."""
    r.send(b"".join(r.encode(*c) for c in cmds))
    return [r.read() for _ in cmds]


def info(r, *sections):
    """INFO as a dict of field -> text value."""
    text = r.cmd("INFO", *sections).decode()
    out = {}
    for line in text.split("\r\n"):
        if line and not line.startswith("#") and ":" in line:
            k, v = line.split(":", 1)
            out[k] = v
    return out


def client_info(r):
    return dict(f.split("=", 1) for f in r.cmd("CLIENT", "INFO").decode().split())


def test_auth_required(s):
    """AUTH - with requirepass, commands get NOAUTH until AUTH succeeds; WRONGPASS texts"""
    r = s.conn()
    assert r.cmd_err("GET", "k") == NOAUTH
    assert r.cmd_err("CLIENT", "ID") == NOAUTH
    assert r.cmd_err("AUTH", "wrong") == WRONGPASS
    assert r.cmd_err("AUTH", "default", "wrong") == WRONGPASS
    assert r.cmd_err("AUTH", "nosuchuser", PASSWORD) == WRONGPASS
    assert r.cmd_err("AUTH", "a", "b", "c") == "ERR syntax error"
    assert r.cmd_err("AUTH") == "ERR wrong number of arguments for 'auth' command"
    # A prefix of the password, or the password with more after it, is still wrong.
    assert r.cmd_err("AUTH", PASSWORD[:-1]) == WRONGPASS
    assert r.cmd_err("AUTH", PASSWORD + "x") == WRONGPASS
    assert r.cmd_err("PING") == NOAUTH
    assert r.cmd("AUTH", PASSWORD) == "OK"
    assert r.cmd("PING") == "PONG"
    # A failed AUTH does not log an authenticated connection out.
    assert r.cmd_err("AUTH", "wrong") == WRONGPASS
    assert r.cmd("SET", "k", "v") == "OK"
    assert r.cmd("AUTH", "default", PASSWORD) == "OK"
    # QUIT works before AUTH.
    q = s.conn()
    assert q.raw(q.encode("QUIT")) == b"+OK\r\n"
    # Stricter protocol limits apply before AUTH, and the connection is closed after the error.
    u = s.conn()
    assert u.raw(b"*100\r\n") == b"-ERR Protocol error: unauthenticated multibulk length\r\n"
    u = s.conn()
    out = u.raw(b"*1\r\n$100000000\r\n")
    assert out == b"-ERR Protocol error: unauthenticated bulk length\r\n", out


def test_auth_hello3(s):
    """HELLO 3 AUTH - authenticates and switches to RESP3 in one step; refused without AUTH"""
    r = s.conn()
    assert r.cmd_err("HELLO", "3").startswith(
        "NOAUTH HELLO must be called with the client already authenticated")
    assert r.cmd_err("HELLO", "3", "AUTH", "default", "wrong") == WRONGPASS
    # Still RESP2 and still unauthenticated after the failures.
    assert r.raw(r.encode("GET", "k"), expect_bytes=len(NOAUTH) + 3) == b"-" + NOAUTH.encode() + b"\r\n"
    hello = r.cmd("HELLO", "3", "AUTH", "default", PASSWORD, "SETNAME", "conn1")
    assert isinstance(hello, dict), hello
    assert hello[b"proto"] == 3 and hello[b"server"] == b"redis" and hello[b"version"] == b"7.0.15"
    assert hello[b"mode"] == b"standalone" and hello[b"role"] == b"master" and hello[b"modules"] == []
    assert r.raw(r.encode("GET", "missing"), expect_bytes=3) == b"_\r\n"
    assert r.cmd("CLIENT", "GETNAME") == b"conn1"
    # A bad name after a good AUTH: authenticated, but the protocol does not change.
    r2 = s.conn()
    err = r2.cmd_err("HELLO", "3", "AUTH", "default", PASSWORD, "SETNAME", "a b")
    assert err == "ERR Client names cannot contain spaces, newlines or special characters."
    assert r2.raw(r2.encode("GET", "missing"), expect_bytes=5) == b"$-1\r\n"
    assert r2.cmd_err("HELLO", "4") == "NOPROTO unsupported protocol version"
    assert r2.cmd_err("HELLO", "x") == "ERR Protocol version is not an integer or out of range"
    assert r2.cmd_err("HELLO", "3", "FOO") == "ERR Syntax error in HELLO option 'FOO'"
    flat = r2.cmd("HELLO", "2")
    assert isinstance(flat, list) and len(flat) == 14 and flat[4:6] == [b"proto", 2], flat


def test_auth_reset_and_config(s):
    """RESET logs out under requirepass; CONFIG SET requirepass takes effect at once"""
    r = s.conn()
    assert r.cmd("AUTH", PASSWORD) == "OK"
    assert r.raw(r.encode("RESET"), expect_bytes=8) == b"+RESET\r\n"
    assert r.cmd_err("GET", "k") == NOAUTH
    assert r.cmd("AUTH", PASSWORD) == "OK"
    waiting = s.conn()
    assert waiting.cmd_err("GET", "k") == NOAUTH
    assert r.cmd("CONFIG", "SET", "requirepass", "") == "OK"
    assert waiting.cmd("GET", "k") is None  # no password: every connection may run commands
    assert waiting.cmd_err("AUTH", "x").startswith("ERR AUTH <password> called without any password")
    assert r.cmd("CONFIG", "SET", "requirepass", "newpass") == "OK"
    fresh = s.conn()
    assert fresh.cmd_err("PING") == NOAUTH
    assert fresh.cmd_err("AUTH", PASSWORD) == WRONGPASS
    assert fresh.cmd("AUTH", "newpass") == "OK"
    assert r.cmd("PING") == "PONG"  # connections already in stay in
    r.cmd("CONFIG", "SET", "requirepass", PASSWORD)


def test_auth_without_password(s):
    """AUTH - with no password configured: Redis's exact error, AUTH default <any> is OK"""
    r = s.conn()
    assert r.cmd_err("AUTH", "foo") == (
        "ERR AUTH <password> called without any password configured for the default user. "
        "Are you sure your configuration is correct?")
    assert r.cmd("AUTH", "default", "anything") == "OK"
    assert r.cmd_err("AUTH", "someone", "anything") == WRONGPASS
    assert r.cmd("HELLO", "2", "AUTH", "default", "x")[0] == b"server"


def test_config_ttl_options(s):
    """CONFIG GET/SET default-ttl and max-ttl - validated together, applied to the next write"""
    r = s.conn()
    r.cmd("FLUSHALL")
    assert r.cmd("CONFIG", "GET", "default-ttl") == [b"default-ttl", b"3600"]
    got = r.cmd("CONFIG", "GET", "*ttl*")
    assert dict(zip(got[::2], got[1::2])) == {b"default-ttl": b"3600", b"max-ttl": b"604800",
                                              b"ttl-clamp": b"no"}, got
    assert r.cmd("CONFIG", "SET", "default-ttl", "100") == "OK"
    r.cmd("SET", "k", "v")
    assert 98 <= r.cmd("TTL", "k") <= 100
    # default-ttl may not exceed max-ttl: refused as a whole, nothing changes.
    err = r.cmd_err("CONFIG", "SET", "max-ttl", "50")
    assert err.startswith("ERR CONFIG SET failed (possibly related to argument 'max-ttl') - "), err
    assert r.cmd("CONFIG", "GET", "max-ttl") == [b"max-ttl", b"604800"]
    # Several pairs in one call are applied together (7.0), so this order works.
    assert r.cmd("CONFIG", "SET", "max-ttl", "20", "default-ttl", "10") == "OK"
    assert r.cmd("CONFIG", "GET", "default-ttl", "max-ttl") == [b"default-ttl", b"10", b"max-ttl", b"20"]
    r.cmd("SET", "k2", "v")
    assert 8 <= r.cmd("TTL", "k2") <= 10
    assert "max-ttl" in r.cmd_err("SET", "k3", "v", "EX", "30")
    assert r.cmd("CONFIG", "SET", "default-ttl", "1h", "max-ttl", "7d") == "OK"
    assert r.cmd("CONFIG", "GET", "default-ttl") == [b"default-ttl", b"3600"]
    assert r.cmd("CONFIG", "GET", "max-ttl") == [b"max-ttl", b"604800"]
    # Redis's error texts.
    assert r.cmd_err("CONFIG", "SET", "nosuch", "1") == (
        "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'")
    assert r.cmd_err("CONFIG", "SET", "port", "1") == (
        "ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config")
    assert r.cmd_err("CONFIG", "SET", "maxmemory", "1", "maxmemory", "2") == (
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter")
    assert r.cmd_err("CONFIG", "SET", "maxmemory", "lots") == (
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a "
        "memory value")
    assert r.cmd_err("CONFIG", "SET", "ttl-clamp", "maybe").endswith("argument must be 'yes' or 'no'")
    assert r.cmd_err("CONFIG", "SET", "maxmemory") == (
        "ERR wrong number of arguments for 'config|set' command")
    assert r.cmd_err("CONFIG", "SET", "maxmemory", "1", "hz") == "ERR syntax error"
    assert r.cmd("CONFIG", "GET", "nosuch") == []


def test_config_maxmemory(s):
    """CONFIG SET maxmemory - writes get -OOM, EXEC with a queued write gets EXECABORT ... OOM"""
    r, other = s.conn(), s.conn()
    r.cmd("FLUSHALL")
    r.cmd("SET", "k", "v")
    assert r.cmd("MULTI") == "OK"
    assert r.cmd("SET", "k", "queued") == "QUEUED"
    assert other.cmd("CONFIG", "SET", "maxmemory", "1") == "OK"
    assert info(other, "memory")["maxmemory"] == "1"
    assert r.cmd_err("EXEC") == (
        "EXECABORT Transaction discarded because of: OOM command not allowed when used memory "
        "> 'maxmemory'.")
    assert r.cmd_err("SET", "k", "v2") == "OOM command not allowed when used memory > 'maxmemory'."
    assert r.cmd("GET", "k") == b"v"
    # Over maxmemory nothing can be queued inside MULTI (the queue itself takes memory).
    out = pipeline(r, [("MULTI",), ("GET", "k"), ("EXEC",)])
    assert out[0] == "OK" and str(out[1]).startswith("OOM ") and str(out[2]).startswith("EXECABORT")
    assert other.cmd("CONFIG", "SET", "maxmemory", "0") == "OK"
    assert r.cmd("SET", "k", "v3") == "OK"
    assert int(info(r, "repram")["oom_rejections"]) >= 2


def test_info_figures(s):
    """INFO - keyspace, expired_keys, used_memory_dataset and hits move; RESETSTAT zeroes them"""
    r = s.conn()
    r.cmd("FLUSHALL")
    r.cmd("CONFIG", "RESETSTAT")
    ks = r.cmd("INFO", "keyspace")
    assert ks == b"# Keyspace\r\n", ks
    before = info(r, "memory")
    assert int(before["used_memory"]) > 0 and before["mem_allocator"] == "libc"
    for i in range(10):
        r.cmd("SET", "key:%d" % i, "x" * 1000, "EX", "1000")
    db0 = info(r, "keyspace")["db0"]
    fields = dict(f.split("=") for f in db0.split(","))
    assert fields["keys"] == "10" and fields["expires"] == "10", db0
    assert 990000 <= int(fields["avg_ttl"]) <= 1000000, db0
    after = info(r, "memory")
    assert int(after["used_memory_dataset"]) >= int(before["used_memory_dataset"]) + 10000
    r.cmd("GET", "key:1")
    r.cmd("GET", "missing")
    st = info(r, "stats")
    assert st["keyspace_hits"] == "1" and st["keyspace_misses"] == "1", st
    r.cmd("PSETEX", "short", "50", "v")
    deadline = time.time() + 3
    while info(r, "stats")["expired_keys"] == "0" and time.time() < deadline:
        time.sleep(0.05)
    assert info(r, "stats")["expired_keys"] == "1"
    everything = info(r, "everything")
    assert "redis_version" in everything and everything["redis_version"] == "7.0.15"
    assert "cmdstat_get" in everything and everything["cmdstat_get"].startswith("calls=2,")
    assert "rejected_calls" not in r.cmd("INFO").decode()
    assert "rejected_calls" in r.cmd("INFO", "commandstats").decode()
    rep = info(r, "repram")
    assert rep["mode"] == "single" and rep["default_ttl"] == "3600" and rep["keys"] == "10"
    assert r.cmd("INFO", "nosuchsection") == b""
    assert r.cmd("CONFIG", "RESETSTAT") == "OK"
    st = info(r, "stats")
    assert st["expired_keys"] == "0" and st["keyspace_hits"] == "0", st
    # RESP3: verbatim text.
    r.cmd("HELLO", "3")
    raw = r.raw(r.encode("INFO", "cluster"), expect_bytes=30)
    assert raw.startswith(b"=") and b"txt:# Cluster\r\ncluster_enabled:0\r\n" in raw, raw


def test_client_setinfo(s):
    """CLIENT SETINFO - lib-name/lib-ver show in CLIENT INFO/LIST; Redis 7.2 validation"""
    r = s.conn()
    assert r.cmd("CLIENT", "SETINFO", "lib-name", "redis.py") == "OK"
    assert r.cmd("CLIENT", "SETINFO", "LIB-VER", "1.2.3") == "OK"
    ci = client_info(r)
    assert ci["lib-name"] == "redis.py" and ci["lib-ver"] == "1.2.3", ci
    assert "lib-name=redis.py lib-ver=1.2.3" in r.cmd("CLIENT", "LIST").decode()
    assert r.cmd_err("CLIENT", "SETINFO", "lib-name", "redis py") == (
        "ERR lib-name cannot contain spaces, newlines or special characters.")
    assert r.cmd_err("CLIENT", "SETINFO", "lib-ver", "1\n2").endswith(
        "cannot contain spaces, newlines or special characters.")
    assert r.cmd_err("CLIENT", "SETINFO", "badger", "x") == "ERR Unrecognized option 'badger'"
    assert r.cmd_err("CLIENT", "SETINFO", "lib-name").startswith("ERR wrong number of arguments")
    assert r.cmd("CLIENT", "SETINFO", "lib-name", "") == "OK"
    assert client_info(r)["lib-name"] == ""
    assert r.cmd("CLIENT", "SETNAME", "me") == "OK"
    assert client_info(r)["name"] == "me"
    assert r.cmd_err("CLIENT", "SETNAME", "a b") == (
        "ERR Client names cannot contain spaces, newlines or special characters.")


def test_reset(s):
    """RESET - drops MULTI, WATCH, name, RESP3 and CLIENT REPLY OFF; replies +RESET"""
    r = s.conn()
    r.cmd("HELLO", "3", "SETNAME", "before")
    r.cmd("WATCH", "w")
    r.cmd("MULTI")
    assert r.cmd("SET", "w", "x") == "QUEUED"
    assert r.raw(r.encode("RESET"), expect_bytes=8) == b"+RESET\r\n"
    ci = client_info(r)
    assert ci["name"] == "" and ci["resp"] == "2" and ci["multi"] == "-1", ci
    assert r.cmd_err("EXEC") == "ERR EXEC without MULTI"
    assert r.cmd("GET", "w") is None
    # The watch is gone too: a change to w no longer matters.
    other = s.conn()
    other.cmd("SET", "w", "changed")
    assert pipeline(r, [("MULTI",), ("PING",), ("EXEC",)]) == ["OK", "QUEUED", ["PONG"]]
    # Replies come back on after CLIENT REPLY OFF.
    r.send(r.encode("CLIENT", "REPLY", "OFF") + r.encode("PING"))
    assert r.raw(r.encode("RESET"), expect_bytes=8) == b"+RESET\r\n"
    assert r.cmd("PING") == "PONG"


def test_repram_status(s):
    """REPRAM STATUS / NODES - a map (flat array under RESP2) and one line for this node"""
    r = s.conn()
    r.cmd("FLUSHALL")
    r.cmd("SET", "a", "1")
    flat = r.cmd("REPRAM", "STATUS")
    assert isinstance(flat, list) and len(flat) % 2 == 0, flat
    st = dict(zip(flat[::2], flat[1::2]))
    for k in (b"node", b"version", b"run_id", b"mode", b"cluster_size", b"quorum", b"keys"):
        assert k in st, (k, st)
    assert st[b"mode"] == b"single" and st[b"cluster_size"] == 1 and st[b"quorum"] == 1
    assert st[b"keys"] == 1
    r.cmd("HELLO", "3")
    st3 = r.cmd("REPRAM", "STATUS")
    assert isinstance(st3, dict) and st3[b"node"] == st[b"node"], st3
    nodes = r.cmd("REPRAM", "NODES").decode().splitlines()
    assert len(nodes) == 1 and st[b"node"].decode() in nodes[0] and "myself" in nodes[0], nodes
    assert r.cmd_err("REPRAM", "NOPE") == "ERR unknown subcommand 'NOPE'. Try REPRAM HELP."


def test_info_many_peers_whole(s):
    """INFO repram - every peer line is there in full when the section is over 4 KiB"""
    r = s.conn()
    text = r.cmd("INFO", "repram").decode()
    peers = [l for l in text.split("\r\n") if l.startswith("peer")]
    assert len(peers) == 16, (len(peers), len(text))
    for p in peers:
        assert p.endswith("queued_bytes=0") and "x" * 200 in p, p
    assert "\r\ndefault_ttl:" in text and len(text) > 4096, len(text)
    assert r.cmd("INFO", "everything").decode().count("\r\npeer") == 16


def test_multi_watch_two_connections(s):
    """MULTI/EXEC with WATCH - another connection's write, expiry or FLUSHALL fails EXEC"""
    a, b = s.conn(), s.conn()
    a.cmd("FLUSHALL")
    a.cmd("SET", "k", "1")
    assert a.cmd("WATCH", "k") == "OK"
    assert b.cmd("SET", "k", "2") == "OK"
    assert pipeline(a, [("MULTI",), ("SET", "k", "3"), ("EXEC",)]) == ["OK", "QUEUED", None]
    assert a.cmd("GET", "k") == b"2"
    # Unchanged key: the transaction runs, replies in order.
    a.cmd("WATCH", "k")
    b.cmd("GET", "k")  # reads do not count
    assert pipeline(a, [("MULTI",), ("INCR", "k"), ("GET", "k"), ("EXEC",)]) == [
        "OK", "QUEUED", "QUEUED", [3, b"3"]]
    # A watched key that expires before EXEC.
    a.cmd("SET", "t", "v", "PX", "100")
    a.cmd("WATCH", "t")
    time.sleep(0.3)
    assert pipeline(a, [("MULTI",), ("PING",), ("EXEC",)]) == ["OK", "QUEUED", None]
    # A key that was already expired when WATCHed and is then removed: no change, EXEC runs.
    a.cmd("SET", "gone", "v", "PX", "1")
    time.sleep(0.05)
    a.cmd("WATCH", "gone")
    b.cmd("EXISTS", "gone")
    assert pipeline(a, [("MULTI",), ("PING",), ("EXEC",)]) == ["OK", "QUEUED", ["PONG"]]
    # FLUSHALL touches watched keys that exist, and only those.
    a.cmd("SET", "x", "1")
    a.cmd("WATCH", "x", "never")
    b.cmd("FLUSHALL")
    assert pipeline(a, [("MULTI",), ("PING",), ("EXEC",)]) == ["OK", "QUEUED", None]
    a.cmd("WATCH", "never")
    b.cmd("FLUSHALL")
    assert pipeline(a, [("MULTI",), ("PING",), ("EXEC",)]) == ["OK", "QUEUED", ["PONG"]]
    # UNWATCH forgets; a queueing error aborts the whole transaction.
    a.cmd("SET", "u", "1")
    a.cmd("WATCH", "u")
    b.cmd("SET", "u", "2")
    a.cmd("UNWATCH")
    assert pipeline(a, [("MULTI",), ("SET", "u", "3"), ("EXEC",)]) == ["OK", "QUEUED", ["OK"]]
    out = pipeline(a, [("MULTI",), ("SET", "u", "4"), ("NOSUCH",), ("EXEC",), ("GET", "u")])
    assert str(out[3]) == "EXECABORT Transaction discarded because of previous errors."
    assert out[4] == b"3"
    assert a.cmd_err("EXEC") == "ERR EXEC without MULTI"
    a.cmd("MULTI")
    assert a.cmd_err("WATCH", "x") == "ERR WATCH inside MULTI is not allowed"
    assert a.cmd_err("MULTI") == "ERR MULTI calls can not be nested"
    assert a.cmd("DISCARD") == "OK"
    assert a.cmd_err("DISCARD") == "ERR DISCARD without MULTI"
    # The transaction's queued arguments are copies: a big pipelined value survives.
    big = "v" * 200000
    assert pipeline(a, [("MULTI",), ("SET", "big", big), ("EXEC",)])[2] == ["OK"]
    assert a.cmd("STRLEN", "big") == len(big)


def test_client_kill_and_list(s):
    """CLIENT KILL / LIST - filters, counts, closing the killed connection"""
    a, b = s.conn(), s.conn()
    bid = b.cmd("CLIENT", "ID")
    assert a.cmd("CLIENT", "KILL", "ID", str(bid)) == 1
    try:
        b.cmd("PING")
        assert False, "killed connection still answers"
    except (ConnectionError, OSError):
        pass
    lines = a.cmd("CLIENT", "LIST", "ID", str(a.cmd("CLIENT", "ID"))).decode().splitlines()
    assert len(lines) == 1 and "cmd=client|list" in lines[0]
    assert a.cmd("CLIENT", "LIST", "TYPE", "pubsub") == b""
    assert a.cmd_err("CLIENT", "KILL", "ID", "0") == "ERR client-id should be greater than 0"
    assert a.cmd_err("CLIENT", "KILL", "1.2.3.4:5") == "ERR No such client"
    assert a.cmd("CLIENT", "KILL", "USER", "default", "SKIPME", "yes") >= 0
    assert a.cmd("PING") == "PONG"


def test_command_introspection(s):
    """COMMAND - COUNT, INFO, DOCS, LIST and GETKEYS agree with the command table"""
    r = s.conn()
    count = r.cmd("COMMAND", "COUNT")
    assert count == len(r.cmd("COMMAND"))
    names = r.cmd("COMMAND", "LIST")
    assert b"get" in names and b"client|list" in names and b"repram|status" in names
    info_get = r.cmd("COMMAND", "INFO", "get", "nosuch")
    assert info_get[1] is None and info_get[0][:6] == [b"get", 2, ["readonly", "fast"], 1, 1, 1]
    docs = r.cmd("COMMAND", "DOCS", "get")
    assert docs[0] == b"get" and dict(zip(docs[1][::2], docs[1][1::2]))[b"group"] == b"string"
    assert r.cmd("COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2") == [b"a", b"b"]
    assert r.cmd_err("COMMAND", "GETKEYS", "PING", "x") == "ERR The command has no key arguments"
    assert r.cmd_err("COMMAND", "GETKEYS", "NOSUCH", "x") == "ERR Invalid command specified"
    assert r.cmd_err("COMMAND", "GETKEYS", "GET", "a", "b") == (
        "ERR Invalid number of arguments specified for command")
    assert r.cmd("COMMAND", "LIST", "FILTERBY", "PATTERN", "repram*") == [
        b"repram", b"repram|status", b"repram|nodes", b"repram|help"]
    assert r.cmd("COMMAND", "LIST", "FILTERBY", "ACLCAT", "transaction") == [
        b"multi", b"exec", b"discard", b"watch", b"unwatch"]


def test_shutdown(s):
    """SHUTDOWN - SAVE is refused (nothing is ever written to disk); NOSAVE exits with status 0"""
    r = s.conn()
    assert r.cmd_err("SHUTDOWN", "SAVE") == "ERR Errors trying to SHUTDOWN. Check logs."
    assert r.cmd_err("SHUTDOWN", "ABORT") == "ERR No shutdown in progress."
    assert r.cmd_err("SHUTDOWN", "SAVE", "NOSAVE") == "ERR syntax error"
    r.cmd("MULTI")
    assert r.cmd_err("SHUTDOWN") == "ERR Command not allowed inside a transaction"
    r.cmd("DISCARD")
    assert r.raw(r.encode("SHUTDOWN", "NOSAVE")) == b""  # no reply: the connection closes
    assert s.proc.wait(10) == 0


if __name__ == "__main__":
    main(globals())
