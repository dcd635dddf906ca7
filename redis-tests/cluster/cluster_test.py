# SPDX-License-Identifier: BSD-3-Clause
"""Multi-process cluster tests: real repram-server processes on loopback, black box over TCP.

    /usr/bin/python3 cluster_test.py [SCENARIO ...]     run scenarios (default: all), print TAP
    /usr/bin/python3 cluster_test.py --bench            three-node SET EX latency/throughput

Every node gets a free RESP port and a free bus port (--cluster-port); seeds are the bus
addresses 127.0.0.1:<bus port>.  Nodes are stopped by the PIDs this script started (SIGTERM,
then SIGKILL), also when a scenario fails.  Every wait is bounded by a deadline and every
scenario by an alarm, so the script always ends by itself.

Timing: --node-timeout 1000 and --write-timeout 2000 (so a silent peer is suspected after 1 s,
failed about 0.3 s later once another voter agrees; a write without a majority errs after 2 s).

Only /usr/bin/python3 and its standard library, plus the openssl command for the TLS scenarios
(certificates are generated into $WORK) and redis-benchmark for --bench.
"""
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "semantics"))
from harness import SERVER, Conn, RespError, free_port  # noqa: E402

WORK = os.environ.get("WORK") or "/tmp"
SECRET = "3f1c9a7be0d24c65a8f1e2d3c4b5a697"
NODE_TIMEOUT = 1000
WRITE_TIMEOUT = 2000
TIMEOUT_TEXT = ("TIMEOUT no majority acknowledged the write within write-timeout (%d ms); it is "
                "stored on this node and may still reach the others" % WRITE_TIMEOUT)
LOADING_TEXT = "LOADING Redis is loading the dataset in memory"
NOREPLICAS_TEXT = "NOREPLICAS Not enough good replicas to write."
SCENARIO_SECONDS = 60


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


# ---------------------------------------------------------------------------------------------
# ports and processes

STARTED = []  # every Popen this script started


class HostConn(Conn):
    """A RESP connection to host:port (harness.Conn always dials loopback)."""

    def __init__(self, host, port, timeout=10):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""


class Node:
    """One repram-server process.  By default on loopback with its own ports; with `host` and
    `netns` (the fault-injection suite, redis-tests/faults) it runs inside that network
    namespace (`ip netns exec`, which execs the server: the PID is the server's) bound to host."""

    def __init__(self, name, size, auth, port=None, bus=None, extra=(), node_timeout=NODE_TIMEOUT,
                 host="127.0.0.1", netns=None):
        self.name = name
        self.node_timeout = node_timeout
        self.size = size
        self.auth = list(auth)
        self.host = host
        self.netns = netns
        self.port = port or free_port()
        self.bus = bus or free_port()
        self.extra = list(extra)
        self.proc = None
        self.log = os.path.join(WORK, "%s-%s-%d.log" % (name, host, self.port) if netns else
                                "%s-%d.log" % (name, self.port))

    @property
    def bus_addr(self):
        return "%s:%d" % (self.host, self.bus)

    def args(self, seeds):
        return ([SERVER, "--port", str(self.port), "--bind", self.host, "--http-port", "0",
                 "--cluster-port", str(self.bus), "--node-name", self.name,
                 "--cluster-size", str(self.size), "--seeds", " ".join(seeds),
                 "--node-timeout", str(self.node_timeout), "--write-timeout", str(WRITE_TIMEOUT),
                 "--loglevel", "verbose"] + self.auth + self.extra)

    def start(self, seeds, wait=True):
        logf = open(self.log, "ab")
        argv = self.args(seeds)
        if self.netns:
            argv = ["ip", "netns", "exec", self.netns] + argv
        self.proc = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        STARTED.append(self.proc)
        if wait:
            deadline = time.time() + 10
            while time.time() < deadline:
                try:
                    socket.create_connection((self.host, self.port), timeout=1).close()
                    return self
                except OSError:
                    if self.proc.poll() is not None:
                        break
                    time.sleep(0.05)
            raise Failure("node %s did not start; log:\n%s" % (self.name, self.tail()))
        return self

    def tail(self, n=20):
        try:
            with open(self.log, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode("utf-8", "replace")
        except OSError:
            return "(no log)"

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def conn(self, timeout=10):
        return HostConn(self.host, self.port, timeout)

    def cmd(self, *args, timeout=10):
        c = self.conn(timeout)
        try:
            c.send(c.encode(*args))
            return c.read()
        finally:
            c.close()

    def info(self):
        """INFO repram as a dict; peer lines as dicts under 'peers' (keyed by name)."""
        text = self.cmd("INFO", "repram")
        check(isinstance(text, bytes), "INFO repram on %s answered %r" % (self.name, text))
        d = {"peers": {}}
        for line in text.decode().splitlines():
            if ":" not in line or line.startswith("#"):
                continue
            k, v = line.split(":", 1)
            if k.startswith("peer") and k[4:].isdigit():
                fields = dict(kv.split("=", 1) for kv in v.split(",") if "=" in kv)
                d["peers"][fields.get("name", "?")] = fields
            else:
                d[k] = v
        return d

    def nodes(self):
        r = self.cmd("REPRAM", "NODES")
        check(isinstance(r, bytes), "REPRAM NODES on %s answered %r" % (self.name, r))
        return [l.split() for l in r.decode().splitlines() if l.strip()]

    def signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def kill9(self):
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self):
        p = self.proc
        if p is None or p.poll() is not None:
            return
        try:
            os.kill(p.pid, signal.SIGCONT)  # a stopped process cannot act on SIGTERM
            p.terminate()
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)
        except ProcessLookupError:
            pass


def stop_all():
    for p in STARTED:
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGCONT)
                p.terminate()
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)
            except ProcessLookupError:
                pass
    del STARTED[:]


def secret_auth(secret=SECRET):
    return ["--cluster-secret", secret]


def make_cluster(n, auth_for=None, size=None, extra=(), stagger=0.0, node_timeout=NODE_TIMEOUT,
                 place=None, start=None):
    """n nodes n1..nN (cluster-size `size` or n), every bus address a seed (self included).
    With `stagger`, n1 starts that many seconds before the others (its seed dials back off).
    `place(i)` gives extra Node keyword arguments for node i (host, netns, port, bus); `start`
    (default: all) is how many of them to start now (the others are returned unstarted)."""
    size = size or n
    nodes = []
    for i in range(n):
        name = "n%d" % (i + 1)
        auth = auth_for(name) if auth_for else secret_auth()
        nodes.append(Node(name, size, auth, extra=extra, node_timeout=node_timeout,
                          **(place(i) if place else {})))
    seeds = [x.bus_addr for x in nodes]
    for i, x in enumerate(nodes[:n if start is None else start]):
        x.start(seeds)
        if i == 0 and stagger:
            time.sleep(stagger)
    return nodes


def wait_until(what, fn, seconds=10.0, step=0.05):
    deadline = time.time() + seconds
    last = None
    while time.time() < deadline:
        try:
            last = fn()
            if last:
                return last
        except (OSError, Failure, RespError) as e:
            last = e
        time.sleep(step)
    raise Failure("timed out after %.1f s waiting for %s (last: %r)" % (seconds, what, last))


def healthy(nodes, expect=None):
    """Every node sees all the others connected, has finished its bootstrap and can write."""
    expect = expect if expect is not None else len(nodes)
    for x in nodes:
        inf = x.info()
        if inf.get("can_write") != "1" or inf.get("nodes_reachable") != str(expect):
            return False
        if inf.get("loading", "0") != "0":
            return False
        if sum(1 for p in inf["peers"].values() if p.get("state") == "connected") != expect - 1:
            return False
    return True


def wait_healthy(nodes, seconds=10.0, expect=None):
    wait_until("a healthy cluster of %s" % ",".join(x.name for x in nodes),
               lambda: healthy(nodes, expect), seconds)


def peer_state(node, name):
    return node.info()["peers"].get(name, {}).get("state")


def read_back(node, keys):
    """Values of keys on node (MGET in batches)."""
    out = {}
    c = node.conn()
    try:
        keys = list(keys)
        for i in range(0, len(keys), 200):
            batch = keys[i:i + 200]
            vals = c.cmd("MGET", *batch)
            for k, v in zip(batch, vals):
                out[k] = v
    finally:
        c.close()
    return out


def replicated_everywhere(nodes, key, value, seconds=5.0):
    want = value.encode() if isinstance(value, str) else value
    wait_until("%s=%r on %s" % (key, want, ",".join(x.name for x in nodes)),
               lambda: all(x.cmd("GET", key) == want for x in nodes), seconds, 0.02)


def info_int(node, field):
    return int(node.info().get(field, "0"))


# ---------------------------------------------------------------------------------------------
# TLS material (openssl CLI into WORK)

def openssl(*args):
    r = subprocess.run(["openssl"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    if r.returncode != 0:
        raise Failure("openssl %s: %s" % (" ".join(args), r.stdout.decode()[-500:]))


class CA:
    def __init__(self, label):
        self.dir = os.path.join(WORK, "tls-" + label)
        os.makedirs(self.dir, exist_ok=True)
        self.key = os.path.join(self.dir, "ca.key")
        self.crt = os.path.join(self.dir, "ca.crt")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", self.key, "-out", self.crt, "-days", "2",
                "-subj", "/CN=repram test CA %s" % label)

    def issue(self, file_label, san):
        """A node certificate whose subjectAltName DNS is `san`; returns (cert, key)."""
        key = os.path.join(self.dir, file_label + ".key")
        csr = os.path.join(self.dir, file_label + ".csr")
        crt = os.path.join(self.dir, file_label + ".crt")
        ext = os.path.join(self.dir, file_label + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth,clientAuth\n" % san)
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", key, "-out", csr, "-subj", "/CN=%s" % san)
        openssl("x509", "-req", "-in", csr, "-CA", self.crt, "-CAkey", self.key,
                "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext)
        return crt, key


_ca = {}


def ca(label):
    if label not in _ca:
        _ca[label] = CA(label)
    return _ca[label]


def tls_auth(name, ca_label="cluster", san=None, trust="cluster"):
    crt, key = ca(ca_label).issue("%s-%s" % (name, san or name), san or name)
    return ["--cluster-tls-cert-file", crt, "--cluster-tls-key-file", key,
            "--cluster-tls-ca-cert-file", ca(trust).crt]


# ---------------------------------------------------------------------------------------------
# scenarios; each returns nothing and raises Failure (or any exception) on a failed check

def check_replication(nodes):
    """A write through each node (SET EX, INCR, APPEND, DEL, EXPIRE, MSET) shows on all."""
    for i, x in enumerate(nodes):
        key = "k-from-%s" % x.name
        check(x.cmd("SET", key, "v%d" % i, "EX", "600") == "OK", "SET through %s" % x.name)
        replicated_everywhere(nodes, key, "v%d" % i)
    a, b = nodes[0], nodes[1]
    check(a.cmd("INCR", "counter") == 1, "INCR")
    replicated_everywhere(nodes, "counter", "1")
    check(b.cmd("INCR", "counter") == 2, "INCR on another node")
    replicated_everywhere(nodes, "counter", "2")
    check(b.cmd("APPEND", "k-from-%s" % a.name, "+x") == 4, "APPEND")
    replicated_everywhere(nodes, "k-from-%s" % a.name, "v0+x")
    check(a.cmd("MSET", "m1", "1", "m2", "2") == "OK", "MSET")
    replicated_everywhere(nodes, "m2", "2")
    check(b.cmd("DEL", "m1") == 1, "DEL")
    wait_until("m1 deleted everywhere", lambda: all(x.cmd("GET", "m1") is None for x in nodes), 3)
    check(a.cmd("EXPIRE", "m2", "100") == 1, "EXPIRE")
    wait_until("m2 ttl everywhere", lambda: all(0 < x.cmd("TTL", "m2") <= 100 for x in nodes), 3)
    for x in nodes:
        # a seed address not dialled again yet (dial back-off, at most 5 s) is listed as "-"
        # until its next dial merges it into the member it turned out to be
        def exact():
            rows = x.nodes()
            return (len(rows) == len(nodes) and all(r[-1] == "connected" for r in rows) and
                    sorted(r[1] for r in rows) == sorted(y.name for y in nodes) and rows)
        wait_until("REPRAM NODES on %s listing exactly the members" % x.name, exact, 8, 0.2)
        st = x.cmd("REPRAM", "STATUS")
        if isinstance(st, list):
            st = dict(zip(st[0::2], st[1::2]))
        check(st.get(b"mode") == b"cluster" and st.get(b"can_write") == 1,
              "REPRAM STATUS on %s: %r" % (x.name, st))
        inf = x.info()
        check(inf.get("quorum") == str(len(nodes) // 2 + 1), "quorum on %s: %r" % (x.name, inf.get("quorum")))
        check(inf.get("bus_auth_failures") == "0", "auth failures on %s: %s" % (x.name, inf.get("bus_auth_failures")))


WRITE_COMMANDS = [
    # (write, read whose answer must be the same on every node afterwards)
    (("SET", "w:a", "hello", "EX", "600"), ("GET", "w:a")),
    (("SETRANGE", "w:a", "0", "J"), ("GET", "w:a")),
    (("INCRBY", "w:n", "5"), ("GET", "w:n")),
    (("DECR", "w:n"), ("GET", "w:n")),
    (("INCRBYFLOAT", "w:f", "1.5"), ("GET", "w:f")),
    (("SETNX", "w:nx", "1"), ("GET", "w:nx")),
    (("MSETNX", "w:m1", "1", "w:m2", "2"), ("MGET", "w:m1", "w:m2")),
    (("GETSET", "w:a", "x"), ("GET", "w:a")),
    (("RENAME", "w:a", "w:b"), ("MGET", "w:a", "w:b")),
    (("COPY", "w:b", "w:c"), ("GET", "w:c")),
    (("PEXPIRE", "w:c", "50000"), ("PEXPIRETIME", "w:c")),  # absolute expiry, identical
    (("GETEX", "w:b", "EX", "100"), ("PEXPIRETIME", "w:b")),
    (("SETEX", "w:e", "100", "v"), ("PEXPIRETIME", "w:e")),
    (("PSETEX", "w:p", "100000", "v"), ("PEXPIRETIME", "w:p")),
    (("EXPIREAT", "w:p", str(int(time.time()) + 500)), ("PEXPIRETIME", "w:p")),
    (("GETDEL", "w:nx"), ("EXISTS", "w:nx")),
    (("UNLINK", "w:m1"), ("EXISTS", "w:m1")),
    (("RENAMENX", "w:m2", "w:m3"), ("MGET", "w:m2", "w:m3")),
]


def check_write_commands(nodes):
    """Every write command replicates: the same read answers the same on every node."""
    for i, (write, read) in enumerate(WRITE_COMMANDS):
        x = nodes[i % len(nodes)]
        r = x.cmd(*write)
        check(not isinstance(r, RespError), "%s through %s answered %r" % (write[0], x.name, r))
        want = x.cmd(*read)
        wait_until("%s after %s the same on every node (%r)" % (" ".join(read), write[0], want),
                   lambda: all(y.cmd(*read) == want for y in nodes), 5, 0.02)
    r = nodes[-1].cmd("FLUSHALL")
    check(r == "OK", "FLUSHALL answered %r" % r)
    wait_until("FLUSHALL on every node",
               lambda: all(y.cmd("EXISTS", "w:b", "w:c", "w:e", "w:n") == 0 for y in nodes), 5, 0.02)


def sc_secret3():
    """three nodes with cluster-secret: a write on any node is readable on all others"""
    nodes = make_cluster(3)
    wait_healthy(nodes)
    check_replication(nodes)
    check_write_commands(nodes)


def sc_tls3():
    """three nodes with mutual TLS (cluster CA, SAN = node name): writes readable on all"""
    nodes = make_cluster(3, auth_for=tls_auth)
    wait_healthy(nodes)
    check_replication(nodes)


def sc_five():
    """five nodes: writes on every node readable on all, quorum 3"""
    nodes = make_cluster(5)
    wait_healthy(nodes, 15)
    check_replication(nodes)


def write_stream(targets, seconds, prefix, on_tick=None):
    """Unique SET EX writes, round robin over targets, for `seconds`.  Returns (acked keys,
    error replies, time of the last OK, count of OKs after each tick callback)."""
    conns = [t.conn(timeout=5) for t in targets]
    acked, errors = [], []
    t0 = time.time()
    i = 0
    try:
        while time.time() - t0 < seconds:
            if on_tick:
                on_tick(time.time() - t0)
            c = conns[i % len(conns)]
            key = "%s:%d" % (prefix, i)
            c.send(c.encode("SET", key, key, "EX", "600"))
            r = c.read()
            if r == "OK":
                acked.append((key, time.time() - t0))
            else:
                errors.append((key, str(r), time.time() - t0))
            i += 1
    finally:
        for c in conns:
            c.close()
    return acked, errors


def sc_kill_one():
    """kill -9 one of three during a stream of writes: writes keep being acknowledged and every acknowledged write is on both survivors"""
    # n1 starts first, so its backed-off seed dials reach n2 and n3 while the stream runs.
    # node-timeout 2000: on a loaded machine n1 and n2 must not suspect each other (links to
    # a suspected peer are reset, and nothing re-sends what was in flight on them)
    a, b, c = make_cluster(3, stagger=0.8, node_timeout=2000)
    wait_healthy([a, b, c])
    killed = {}

    def tick(t):
        if t >= 1.5 and not killed:
            c.kill9()
            killed["at"] = t

    acked, errors = write_stream([a, b], 5.0, "stream", tick)
    check(killed, "node n3 was not killed")
    after = [k for k, t in acked if t > killed["at"] + 0.5]
    check(len(acked) > 200, "only %d writes acknowledged" % len(acked))
    check(len(after) > 100, "only %d writes acknowledged after the kill" % len(after))
    # a short blip is allowed (counted), a long outage is not
    check(len(errors) <= 20, "%d errors, e.g. %r" % (len(errors), errors[:3]))
    for x in (a, b):
        got = read_back(x, [k for k, _ in acked])
        missing = [k for k, _ in acked if got.get(k) != k.encode()]
        check(not missing, "%d acknowledged writes missing on %s, e.g. %r" % (len(missing), x.name, missing[:5]))
    wait_until("n3 failed on n1 and n2",
               lambda: peer_state(a, "n3") == "failed" and peer_state(b, "n3") == "failed", 8)
    print("# kill-one: %d acknowledged (%d after the kill), %d errors %r"
          % (len(acked), len(after), len(errors), sorted(set(e[1][:20] for e in errors))))


def sc_kill_two():
    """kill two of three: writes answer NOREPLICAS or the TIMEOUT error, never OK; NOREPLICAS applies nothing"""
    a, b, c = make_cluster(3)
    wait_healthy([a, b, c])
    check(a.cmd("SET", "before", "1", "EX", "600") == "OK", "SET before the kill")
    b.kill9()
    c.kill9()
    conn = a.conn(timeout=WRITE_TIMEOUT / 1000 + 5)
    noreplicas, timeouts, other = [], [], []
    t0 = time.time()
    i = 0
    while time.time() - t0 < 4.0:
        key = "after:%d" % i
        conn.send(conn.encode("SET", key, "x", "EX", "600"))
        r = conn.read()
        if isinstance(r, RespError) and str(r) == NOREPLICAS_TEXT:
            noreplicas.append(key)
        elif isinstance(r, RespError) and str(r) == TIMEOUT_TEXT:
            timeouts.append(key)
        else:
            other.append((key, r))
        i += 1
        time.sleep(0.01)
    # other write commands are refused the same way
    for args in (("DEL", "before"), ("INCR", "ctr"), ("MSET", "p", "1", "q", "2"),
                 ("EXPIRE", "before", "5"), ("FLUSHALL",)):
        conn.send(conn.encode(*args))
        r = conn.read()
        check(isinstance(r, RespError) and str(r) in (NOREPLICAS_TEXT, TIMEOUT_TEXT),
              "%s answered %r" % (args[0], r))
    check(not other, "answers other than NOREPLICAS/TIMEOUT: %r" % other[:5])
    check(noreplicas, "no NOREPLICAS answer at all")
    got = read_back(a, noreplicas + ["before", "ctr", "p"])
    applied = [k for k in noreplicas if got.get(k) is not None]
    check(not applied, "NOREPLICAS writes were applied: %r" % applied[:5])
    check(got.get("before") == b"1", "a refused DEL/EXPIRE changed 'before': %r" % got.get("before"))
    check(got.get("ctr") is None and got.get("p") is None, "refused INCR/MSET applied")
    # reads still work
    check(a.cmd("GET", "before") == b"1", "GET on the minority node")
    inf = a.info()
    check(inf.get("can_write") == "0", "can_write on the minority: %r" % inf.get("can_write"))
    check(int(inf.get("repl_writes_refused", "-1")) >= len(noreplicas),
          "repl_writes_refused %r, %d NOREPLICAS answers" % (inf.get("repl_writes_refused"),
                                                             len(noreplicas)))
    conn.close()
    print("# kill-two: %d NOREPLICAS, %d TIMEOUT" % (len(noreplicas), len(timeouts)))


def sc_stop_two():
    """SIGSTOP two of three: a write waiting for them ends in the TIMEOUT error (stored locally), then NOREPLICAS; SIGCONT heals"""
    a, b, c = make_cluster(3)
    wait_healthy([a, b, c])
    b.signal(signal.SIGSTOP)
    c.signal(signal.SIGSTOP)
    try:
        conn = a.conn(timeout=10)
        t0 = time.time()
        conn.send(conn.encode("SET", "held", "1", "EX", "600"))
        r = conn.read()
        waited = time.time() - t0
        check(isinstance(r, RespError) and str(r) == TIMEOUT_TEXT, "first write answered %r" % r)
        check(WRITE_TIMEOUT / 1000 - 0.2 <= waited <= WRITE_TIMEOUT / 1000 + 1.0,
              "TIMEOUT after %.2f s" % waited)
        check(a.cmd("GET", "held") == b"1", "a timed-out write is stored on the coordinator")
        wait_until("NOREPLICAS on n1", lambda: str(a.cmd("SET", "z", "1")) == NOREPLICAS_TEXT, 5)
        conn.close()
    finally:
        b.signal(signal.SIGCONT)
        c.signal(signal.SIGCONT)
    wait_healthy([a, b, c], 10)
    check(a.cmd("SET", "healed", "1", "EX", "600") == "OK", "write after SIGCONT")
    replicated_everywhere([a, b, c], "healed", "1")


def sc_sigstop():
    """SIGSTOP one of three past node-timeout: marked failed, writes go on; SIGCONT: back, accuses nobody, healthy"""
    a, b, c = make_cluster(3)
    wait_healthy([a, b, c])
    c.signal(signal.SIGSTOP)
    try:
        acked, errors = write_stream([a, b], 2.5, "stopped")
        check(len(errors) == 0, "errors while n3 was stopped: %r" % errors[:3])
        check(len(acked) > 100, "only %d writes while n3 was stopped" % len(acked))
        for x in (a, b):
            check(peer_state(x, "n3") == "failed", "n3 on %s is %r" % (x.name, peer_state(x, "n3")))
            rows = {r[1]: r for r in x.nodes()}
            check(rows["n3"][-1] == "failed", "REPRAM NODES on %s: %r" % (x.name, rows["n3"]))
            check(peer_state(x, "n1" if x is b else "n2") == "connected", "the survivors see each other")
    finally:
        c.signal(signal.SIGCONT)
    # n3 never suspects n1 or n2 after waking up
    t0 = time.time()
    seen = set()
    while time.time() - t0 < 3.0:
        try:
            inf = c.info()
        except OSError:
            time.sleep(0.05)
            continue
        for name in ("n1", "n2"):
            seen.add(inf["peers"].get(name, {}).get("state"))
        time.sleep(0.05)
    # "connecting" is allowed: the peers closed the links from n3 that stayed silent for
    # 2 x node-timeout, so n3 re-dials them; what it must never do is suspect or fail them.
    check(seen <= {"connected", "connecting"}, "n3 saw its peers as %r after SIGCONT" % seen)
    wait_healthy([a, b, c], 10)
    with open(c.log, "rb") as f:
        log = f.read().decode("utf-8", "replace")
    check("stalled" in log, "n3 did not notice its own stall")
    check("suspected" not in log and "marked failed" not in log,
          "n3 accused a peer: %s" % [l for l in log.splitlines() if "suspected" in l or "failed" in l][:3])
    # writes through the woken node reach the others, and the stopped-time writes reach it
    check(c.cmd("SET", "woke", "1", "EX", "600") == "OK", "write through n3 after SIGCONT")
    replicated_everywhere([a, b, c], "woke", "1")
    # Writes acknowledged while n3 was stopped reach it through anti-entropy (triggered when
    # it comes back), within a few seconds.
    keys = [k for k, _ in acked]

    def all_there():
        got = read_back(c, keys)
        return all(got.get(k) == k.encode() for k in keys)
    t0 = time.time()
    wait_until("every write acknowledged while n3 was stopped is on n3", all_there, 10)
    print("# sigstop: %d writes acknowledged while n3 was stopped, all on n3 %.1f s after it "
          "was healthy again" % (len(keys), time.time() - t0), flush=True)


def rogue_checks(members, rogue, label):
    """The rogue is refused: auth failures counted, it cannot write, members never list it."""
    wait_until("%s: auth failures counted on every member" % label,
               lambda: all(info_int(x, "bus_auth_failures") > 0 for x in members), 8)
    inf = rogue.info()
    check(inf.get("can_write") == "0" and inf.get("nodes_reachable") == "1",
          "%s: rogue sees %s reachable, can_write %s" % (label, inf.get("nodes_reachable"), inf.get("can_write")))
    r = rogue.cmd("SET", "injected-%s" % label, "evil", "EX", "600")
    # An isolated node never finishes its bootstrap, so it answers LOADING (a node that had
    # bootstrapped before being cut off answers NOREPLICAS): either way, nothing is written.
    check(isinstance(r, RespError) and str(r) in (NOREPLICAS_TEXT, LOADING_TEXT),
          "%s: rogue write answered %r" % (label, r))
    time.sleep(0.3)
    for x in members:
        check(x.cmd("GET", "injected-%s" % label) is None, "%s: rogue write visible on %s" % (label, x.name))
        names = [r[1] for r in x.nodes()]
        check(rogue.name not in names, "%s: %s lists the rogue: %r" % (label, x.name, names))
        check(healthy(members), "%s: the cluster is no longer healthy" % label)


def sc_rogue_secret():
    """a node with the wrong cluster-secret is refused (bus_auth_failures) and cannot inject a write"""
    nodes = make_cluster(3)
    wait_healthy(nodes)
    rogue = Node("rogue", 3, secret_auth("0000000000000000wrongwrongwrong00"))
    rogue.start([x.bus_addr for x in nodes] + [rogue.bus_addr])
    rogue_checks(nodes, rogue, "wrong-secret")
    before = [info_int(x, "repl_batches_applied") for x in nodes]
    check(nodes[0].cmd("SET", "still", "1", "EX", "60") == "OK", "cluster write")
    replicated_everywhere(nodes, "still", "1")
    check([info_int(x, "repl_batches_applied") for x in nodes][1:] != before[1:], "replication stalled")
    rogue.stop()


def sc_rogue_tls():
    """mutual TLS: a cert from another CA, and a CA-signed cert whose SAN is not the node name, are refused"""
    nodes = make_cluster(3, auth_for=tls_auth)
    wait_healthy(nodes)
    seeds = [x.bus_addr for x in nodes]
    # another CA entirely (it also trusts only its own CA)
    r1 = Node("rogue", 3, tls_auth("rogue", ca_label="other", trust="other"))
    r1.start(seeds + [r1.bus_addr])
    rogue_checks(nodes, r1, "other-ca")
    r1.stop()
    # trusted CA, but the certificate names someone else: posing as member n2
    fails = [info_int(x, "bus_auth_failures") for x in nodes]
    r2 = Node("n2", 3, tls_auth("n2", san="intruder"))
    r2.start(seeds + [r2.bus_addr])
    wait_until("SAN mismatch refused on every member",
               lambda: all(info_int(x, "bus_auth_failures") > f for x, f in zip(nodes, fails)), 8)
    inf = r2.info()
    check(inf.get("can_write") == "0", "impostor can write: %r" % inf)
    r = r2.cmd("SET", "injected-san", "evil", "EX", "600")
    check(isinstance(r, RespError) and str(r) in (NOREPLICAS_TEXT, LOADING_TEXT),
          "impostor write answered %r" % r)
    time.sleep(0.3)
    for x in nodes:
        check(x.cmd("GET", "injected-san") is None, "impostor write visible on %s" % x.name)
    # the real n2 kept its place
    check(healthy(nodes), "the cluster is no longer healthy")
    run_ids = {r[1]: r[0] for r in nodes[0].nodes()}
    check(run_ids.get("n2") == nodes[1].nodes()[0][0], "n1 lists another n2: %r" % run_ids)
    r2.stop()


class Recorder:
    """A TCP proxy 127.0.0.1:port -> target that records each direction of its connections."""

    def __init__(self, target_port):
        self.target = target_port
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.conns = []  # [client->server bytes, server->client bytes]
        self.stopping = False
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self._accept, daemon=True)
        self.t.start()

    def _accept(self):
        self.sock.settimeout(0.2)
        while not self.stopping:
            try:
                cs, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                ss = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                cs.close()
                continue
            rec = [bytearray(), bytearray()]
            with self.lock:
                self.conns.append(rec)
            for src, dst, buf in ((cs, ss, rec[0]), (ss, cs, rec[1])):
                threading.Thread(target=self._pipe, args=(src, dst, buf), daemon=True).start()

    def _pipe(self, src, dst, buf):
        src.settimeout(0.2)
        while not self.stopping:
            try:
                data = src.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                break
            with self.lock:
                buf.extend(data)
            try:
                dst.sendall(data)
            except OSError:
                break
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.stopping = True
        self.sock.close()
        self.t.join(2)


def sc_replay():
    """replay: the recorded bytes of a bus connection replayed into a fresh connection are refused (TLS failure counted) and apply nothing"""
    # Two voters of three: n2 has no seeds, n1's only seed is a recording proxy in front of n2,
    # so every batch n1 replicates (and a quorum needs n2) crosses the proxy.
    b = Node("n2", 3, secret_auth())
    a = Node("n1", 3, secret_auth())
    b.start([])
    proxy = Recorder(b.bus)
    try:
        a.start(["127.0.0.1:%d" % proxy.port])
        wait_healthy([a, b], 10, expect=2)
        via = a.info()["peers"].get("n2", {}).get("addr")
        check(via == "127.0.0.1:%d" % proxy.port, "n1 reaches n2 at %r, not through the proxy" % via)
        for i in range(20):
            check(a.cmd("SET", "rec:%d" % i, "v%d" % i, "EX", "600") == "OK", "write through n1")
        replicated_everywhere([a, b], "rec:19", "v19")
        with proxy.lock:
            recs = [bytes(r[0]) for r in proxy.conns if len(r[0]) > 0]
        check(recs, "nothing recorded through the proxy")
        longest = max(recs, key=len)
        # the handshake, HELLO, PINGs and the 20 REPL frames, all encrypted
        check(len(longest) > 1500, "recorded only %d bytes (%r)" % (len(longest), [(len(r[0]), len(r[1])) for r in proxy.conns]))
        check(b"rec:1" not in longest, "the bus carries plaintext")
        print("# replay: %d connection(s) recorded, longest %d bytes" % (len(recs), len(longest)))
        # delete a recorded key: a replayed SET for it would bring it back
        check(b.cmd("DEL", "rec:3") == 1, "DEL rec:3 through n2")
        applied = info_int(b, "repl_batches_applied")
        fails = info_int(b, "bus_auth_failures")
        keys = b.cmd("DBSIZE")
        for rec in recs:
            s = socket.create_connection(("127.0.0.1", b.bus), timeout=3)
            try:
                s.sendall(rec)
                s.settimeout(2)
                t0 = time.time()
                while time.time() - t0 < 3:
                    try:
                        if not s.recv(65536):
                            break
                    except socket.timeout:
                        break
                    except OSError:
                        break
            except OSError:
                pass
            finally:
                s.close()
        wait_until("the replay counted as a failed handshake on n2",
                   lambda: info_int(b, "bus_auth_failures") > fails, 5)
        time.sleep(0.3)
        check(info_int(b, "repl_batches_applied") == applied, "replayed batches were applied on n2")
        check(b.cmd("GET", "rec:3") is None, "a replayed SET brought back a deleted key")
        check(b.cmd("DBSIZE") == keys, "n2's key count changed by the replay")
        check(healthy([a, b], expect=2), "the cluster is no longer healthy after the replay")
    finally:
        proxy.close()


def sc_pipeline():
    """pipelined writes keep their order while a write waits; other clients are never blocked"""
    a, b, c = make_cluster(3, node_timeout=3000)
    wait_healthy([a, b, c])
    # 1. a long mixed pipeline in a healthy cluster
    cmds, want = [], []
    for i in range(300):
        cmds.append(("SET", "p:%d" % i, "v%d" % i, "EX", "600"))
        want.append("OK")
        cmds.append(("GET", "p:%d" % i))
        want.append(b"v%d" % i)
        cmds.append(("INCR", "pctr"))
        want.append(i + 1)
    conn = a.conn()
    conn.send(b"".join(conn.encode(*x) for x in cmds))
    got = [conn.read() for _ in cmds]
    check(got == want, "pipeline replies out of order or wrong: first difference at %r" %
          (next(((i, g, w) for i, (g, w) in enumerate(zip(got, want)) if g != w), None),))
    replicated_everywhere([a, b, c], "pctr", "300")
    # 2. a write waiting for its quorum (both peers stopped, less than node-timeout)
    other = a.conn(timeout=5)
    b.signal(signal.SIGSTOP)
    c.signal(signal.SIGSTOP)
    try:
        conn.send(conn.encode("SET", "w", "1", "EX", "600") + conn.encode("GET", "w") +
                  conn.encode("INCR", "pctr") + conn.encode("PING"))
        conn.sock.settimeout(0.3)
        early = b""
        try:
            early = conn.sock.recv(1000)
        except socket.timeout:
            pass
        check(early == b"", "replies sent before the write's quorum: %r" % early)
        # another client is served at once, reads and non-writes alike
        # (a blocked loop would hold them until the write's 2 s time-out)
        for _ in range(20):
            t0 = time.time()
            check(other.cmd("GET", "p:7") == b"v7", "other client's GET")
            check(other.cmd("PING") == "PONG", "other client's PING")
            check(time.time() - t0 < 1.0, "other client waited %.3f s" % (time.time() - t0))
        conn.sock.settimeout(0.05)
        try:
            early = conn.sock.recv(1000)
        except socket.timeout:
            early = b""
        check(early == b"", "replies sent before the write's quorum: %r" % early)
    finally:
        b.signal(signal.SIGCONT)
        c.signal(signal.SIGCONT)
    conn.sock.settimeout(5)
    got = [conn.read() for _ in range(4)]
    check(got == ["OK", b"1", 301, "PONG"], "replies after the quorum: %r" % got)
    conn.close()
    other.close()
    wait_healthy([a, b, c])


def sc_wait():
    """WAIT after a write returns the number of peers that acknowledged"""
    a, b, c = make_cluster(3)
    wait_healthy([a, b, c])
    conn = a.conn()
    check(conn.cmd("SET", "wk", "1", "EX", "600") == "OK", "SET")
    n = conn.cmd("WAIT", "2", "5000")
    check(n == 2, "WAIT 2 5000 after a write answered %r" % n)
    n = conn.cmd("WAIT", "1", "0")
    check(isinstance(n, int) and n >= 1, "WAIT 1 0 answered %r" % n)
    c.kill9()
    wait_until("n3 failed on n1", lambda: peer_state(a, "n3") in ("failed", "suspected"), 5)
    check(conn.cmd("SET", "wk2", "1", "EX", "600") == "OK", "SET with one node down")
    t0 = time.time()
    n = conn.cmd("WAIT", "2", "500")
    took = time.time() - t0
    check(n == 1, "WAIT 2 500 with one peer down answered %r" % n)
    check(0.4 <= took <= 2.0, "WAIT 2 500 took %.2f s" % took)
    conn.close()


def sc_refuse_unauthenticated():
    """a clustered server refuses to start with no bus authentication, and starts with cluster-insecure yes"""
    port, bus = free_port(), free_port()
    base = [SERVER, "--port", str(port), "--bind", "127.0.0.1", "--http-port", "0",
            "--cluster-port", str(bus), "--node-name", "lonely", "--cluster-size", "3",
            "--seeds", "127.0.0.1:%d" % bus]
    r = subprocess.run(base, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    out = r.stdout.decode("utf-8", "replace")
    check(r.returncode == 1, "exit status %r without authentication; output: %s" % (r.returncode, out[-500:]))
    for word in ("cluster-secret", "cluster-tls-cert-file", "cluster-insecure"):
        check(word in out, "the refusal does not name %s: %s" % (word, out[-500:]))
    r = subprocess.run(base + ["--cluster-secret", "short"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=20)
    check(r.returncode != 0 and "16" in r.stdout.decode(), "a short secret was accepted: %r" % r.stdout[-300:])
    x = Node("lonely", 3, ["--cluster-insecure", "yes"], port=port, bus=bus)
    x.start([x.bus_addr])
    inf = x.info()
    check(inf.get("mode") == "cluster", "insecure node not clustered: %r" % inf)
    check(inf.get("can_write") == "0", "one node of three can write")
    with open(x.log, "rb") as f:
        check(b"INSECURE" in f.read(), "no warning about the insecure bus in the log")
    x.stop()


def sc_restart():
    """a node killed and restarted (new run id, empty) rejoins; writes flow both ways again"""
    a, b, c = make_cluster(3)
    wait_healthy([a, b, c])
    old = {r[1]: r[0] for r in a.nodes()}["n3"]
    c.kill9()
    wait_until("n3 failed", lambda: peer_state(a, "n3") == "failed", 5)
    c.start([x.bus_addr for x in (a, b, c)])
    wait_healthy([a, b, c], 10)
    new = {r[1]: r[0] for r in a.nodes()}["n3"]
    check(new != old and new == c.nodes()[0][0], "n1 lists n3 with run id %s (old %s)" % (new, old))
    # INFO shows n3 connected as soon as n1 hears from it; n1's own link to n3 may still be
    # being dialled, and a write made before it is up never reaches n3 (no repair yet)
    probes = [0]

    def probe():
        probes[0] += 1
        key = "probe:%d" % probes[0]
        check(a.cmd("SET", key, "1", "EX", "60") == "OK", "probe write")
        time.sleep(0.05)
        return c.cmd("GET", key) == b"1"
    wait_until("a write through n1 reaching the new n3", probe, 5, 0.05)
    if probes[0] > 1:
        print("# restart: %d write(s) through n1 did not reach the restarted n3" % (probes[0] - 1))
    check(c.cmd("SET", "from-new-n3", "1", "EX", "600") == "OK", "write through the restarted node")
    replicated_everywhere([a, b, c], "from-new-n3", "1")
    check(a.cmd("SET", "to-new-n3", "2", "EX", "600") == "OK", "write to the restarted node")
    replicated_everywhere([a, b, c], "to-new-n3", "2")


def sc_rotate_secret():
    """cluster-secret rotated in three rolling restarts (A + accept B, B + accept A, B): writable throughout, no handshake refused, data kept"""
    new = "rotated-secret-0123456789abcdef"
    nodes = make_cluster(3)
    wait_healthy(nodes)
    check(nodes[0].cmd("SET", "before-rotation", "kept", "EX", "600") == "OK", "write before")
    seeds = [x.bus_addr for x in nodes]
    steps = [("A+B", ["--cluster-secret", SECRET, "--cluster-secret-accept", new]),
             ("B+A", ["--cluster-secret", new, "--cluster-secret-accept", SECRET]),
             ("B", ["--cluster-secret", new])]
    for label, auth in steps:
        for i, x in enumerate(nodes):
            x.stop()
            x.auth = auth
            x.start(seeds)
            wait_healthy(nodes, 15)  # includes the restarted node's bootstrap from its peers
            for y in nodes:
                check(info_int(y, "bus_auth_failures") == 0,
                      "step %s, %s restarted: %s refused %d handshake(s)"
                      % (label, x.name, y.name, info_int(y, "bus_auth_failures")))
            key = "rot:%s:%s" % (label, x.name)
            check(x.cmd("SET", key, "1", "EX", "600") == "OK", "write through restarted %s" % x.name)
            replicated_everywhere(nodes, key, "1")
            other = nodes[(i + 1) % 3]
            check(other.cmd("SET", key + ":to", "2", "EX", "600") == "OK", "write through %s" % other.name)
            replicated_everywhere(nodes, key + ":to", "2")
    replicated_everywhere(nodes, "before-rotation", "kept")
    with open(nodes[0].log, "rb") as f:
        log = f.read()
    check(SECRET.encode() not in log and new.encode() not in log, "a secret reached the log")
    # the old secret is now refused
    rogue = Node("n4", 3, secret_auth())
    rogue.start(seeds)
    wait_until("the node with the old secret refused",
               lambda: info_int(nodes[0], "bus_auth_failures") > 0, 8)
    check(nodes[0].info().get("nodes_reachable") == "3", "the old-secret node joined")
    rogue.stop()


# A hand-written member speaking the bus protocol (cluster-insecure only): frame header
# magic "RPB1" | length u32 | version u16 | type u16 | hlc u64; strings are u8 length + bytes.
HELLO, HELLO_OK, HELLO_ERR, PING, PONG, REPL, ACK = 1, 2, 3, 4, 5, 6, 7
REC_SET, REC_TOMBSTONE = 1, 2


def frame(ftype, payload, hlc):
    return b"RPB1" + (20 + len(payload)).to_bytes(4, "big") + (1).to_bytes(2, "big") + \
        ftype.to_bytes(2, "big") + hlc.to_bytes(8, "big") + payload


def bstr(x):
    x = x.encode()
    return bytes([len(x)]) + x


def record(op, version, expire_at_ms, key, value=b"", shadow_until_ms=0):
    """One replication record (server/replica.c): op, version, expiry, shadow, lengths, bytes."""
    key = key.encode()
    return (bytes([op]) + version.to_bytes(8, "big") + expire_at_ms.to_bytes(8, "big") +
            shadow_until_ms.to_bytes(8, "big") + len(key).to_bytes(4, "big") +
            len(value).to_bytes(4, "big") + key + value)


def now_ms():
    return int(time.time() * 1000)


class FakePeer:
    def __init__(self, node, name="n3", cluster="repram", size=3):
        self.sock = socket.create_connection((node.host, node.bus), timeout=5)
        self.buf = b""
        self.seq = 0
        # HELLO: cluster, node, run id, client/http/bus ports, cluster-size, ready flag (1: the
        # fake peer claims to hold the data, so nobody tries to bootstrap from it... except
        # that it never answers SYNC_REQ: the real members are ready long before it connects)
        hello = (bstr(cluster) + bstr(name) + bstr("f" * 40) + (0).to_bytes(2, "big") * 2 +
                 (1).to_bytes(2, "big") + size.to_bytes(4, "big") + (1).to_bytes(1, "big"))
        self.sock.sendall(frame(HELLO, hello, now_ms() << 16))
        t, _ = self.read()
        check(t == HELLO_OK, "the fake peer's HELLO answered with frame type %r" % t)

    def read(self, timeout=5):
        self.sock.settimeout(timeout)
        while len(self.buf) < 20 or len(self.buf) < int.from_bytes(self.buf[4:8], "big"):
            chunk = self.sock.recv(65536)
            if not chunk:
                return None, b""
            self.buf += chunk
        n = int.from_bytes(self.buf[4:8], "big")
        t = int.from_bytes(self.buf[10:12], "big")
        payload, self.buf = self.buf[20:n], self.buf[n:]
        return t, payload

    def repl(self, batch, hlc=None, expect_ack=True):
        self.seq += 1
        self.sock.sendall(frame(REPL, self.seq.to_bytes(8, "big") + batch,
                                hlc if hlc is not None else now_ms() << 16))
        if not expect_ack:
            return None
        while True:
            t, payload = self.read()
            if t is None:
                return None
            if t == ACK:
                return int.from_bytes(payload, "big")

    def closed(self, timeout=2):
        try:
            t, _ = self.read(timeout)
            while t is not None:
                t, _ = self.read(timeout)
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


def sc_lww():
    """last writer wins: older records never replace newer ones, a DEL's tombstone shadows older copies, concurrent writers converge"""
    a = Node("n1", 3, ["--cluster-insecure", "yes"])
    b = Node("n2", 3, ["--cluster-insecure", "yes"])
    a.start([b.bus_addr])
    b.start([a.bus_addr])
    wait_healthy([a, b], 10, expect=2)
    t = now_ms()
    exp = t + 600000
    check(a.cmd("SET", "k", "original", "EX", "600") == "OK", "SET k")
    fake = FakePeer(a)
    try:
        # an older version arriving late changes nothing
        check(fake.repl(record(REC_SET, (t - 60000) << 16, exp, "k", b"stale")) == 1, "ACK 1")
        check(a.cmd("GET", "k") == b"original", "an older record replaced a newer value")
        # a newer one wins (the frame's clock covers it, as a real sender's does)
        v_new = (now_ms() << 16) | 0xff0
        check(fake.repl(record(REC_SET, v_new, exp, "k", b"newer"), hlc=v_new) == 2, "ACK 2")
        check(a.cmd("GET", "k") == b"newer", "a newer record was not applied")
        # DEL leaves a tombstone: a copy older than the delete cannot bring the key back
        check(a.cmd("DEL", "k") == 1, "DEL k")
        check(fake.repl(record(REC_SET, v_new + 1, exp, "k", b"zombie")) == 3, "ACK 3")
        check(a.cmd("GET", "k") is None, "a record older than the DEL resurrected the key")
        check(a.cmd("EXISTS", "k") == 0, "EXISTS sees the tombstone")
        # a record that arrives already expired is not served
        fake.repl(record(REC_SET, (now_ms() << 16) | 0xff1, now_ms() - 1000, "late", b"x"))
        check(a.cmd("GET", "late") is None, "an expired record was served")
        # a record whose absolute expiry is in 1.5 s disappears then, whatever TTL it had
        fake.repl(record(REC_SET, (now_ms() << 16) | 0xff2, now_ms() + 1500, "short", b"y"))
        check(a.cmd("GET", "short") == b"y", "a record with a future expiry was not applied")
        check(0 < a.cmd("PTTL", "short") <= 1500, "PTTL of a replicated record")
        # a frame stamped beyond max-clock-offset is refused and ends the link
        rejections = info_int(a, "bus_clock_rejections")
        fake.repl(record(REC_SET, (now_ms() + 60000) << 16, exp, "future", b"f"),
                  hlc=(now_ms() + 60000) << 16, expect_ack=False)
        check(fake.closed(), "the link stayed open after a refused REPL")
        check(info_int(a, "bus_clock_rejections") > rejections, "clock rejection not counted")
        check(a.cmd("GET", "future") is None, "a record from the future was applied")
    finally:
        fake.close()
    # a malformed batch closes the link and is counted
    fake = FakePeer(a)
    try:
        rejected = info_int(a, "bus_frames_rejected")
        fake.repl(b"\x09" + b"\x00" * 24, expect_ack=False)
        check(fake.closed(), "the link stayed open after a malformed batch")
        check(info_int(a, "bus_frames_rejected") > rejected, "malformed batch not counted")
    finally:
        fake.close()
    # two real writers racing on one key converge on one value everywhere
    ca, cb = a.conn(), b.conn()
    for i in range(50):
        ca.send(ca.encode("SET", "race", "a%d" % i, "EX", "600"))
        cb.send(cb.encode("SET", "race", "b%d" % i, "EX", "600"))
        check(ca.read() == "OK" and cb.read() == "OK", "racing SETs")
    ca.close()
    cb.close()
    wait_until("both nodes agree on 'race'", lambda: a.cmd("GET", "race") == b.cmd("GET", "race"), 3)
    check(a.cmd("GET", "race") in (b"a49", b"b49"), "the last writes did not win: %r" % a.cmd("GET", "race"))


SCENARIOS = [
    ("secret3", sc_secret3),
    ("tls3", sc_tls3),
    ("five", sc_five),
    ("kill-one", sc_kill_one),
    ("kill-two", sc_kill_two),
    ("stop-two", sc_stop_two),
    ("sigstop", sc_sigstop),
    ("rogue-secret", sc_rogue_secret),
    ("rogue-tls", sc_rogue_tls),
    ("replay", sc_replay),
    ("pipeline", sc_pipeline),
    ("wait", sc_wait),
    ("refuse-unauthenticated", sc_refuse_unauthenticated),
    ("restart", sc_restart),
    ("rotate-secret", sc_rotate_secret),
    ("lww", sc_lww),
]


def on_alarm(signum, frame):
    raise Failure("scenario over its %d s limit" % SCENARIO_SECONDS)


def run(names):
    signal.signal(signal.SIGALRM, on_alarm)
    failed = 0
    for name, fn in SCENARIOS:
        if names and name not in names:
            continue
        label = "cluster %s: %s" % (name, (fn.__doc__ or name).strip())
        t0 = time.time()
        signal.alarm(SCENARIO_SECONDS)
        try:
            fn()
            signal.alarm(0)
            print("ok - %s (%.1f s)" % (label, time.time() - t0), flush=True)
        except Exception:
            signal.alarm(0)
            failed += 1
            print("not ok - %s" % label, flush=True)
            for line in traceback.format_exc().rstrip().splitlines()[-12:]:
                print("#   " + line, flush=True)
        finally:
            stop_all()
    return failed


# ---------------------------------------------------------------------------------------------
# benchmark (not a test)

def bench():
    nodes = make_cluster(3)
    try:
        wait_healthy(nodes)
        a = nodes[0]
        results = {}
        for clients, n in ((1, 5000), (50, 50000)):
            rows = []
            for rep in range(3):
                r = subprocess.run(["redis-benchmark", "-p", str(a.port), "-c", str(clients),
                                    "-n", str(n), "-r", "1000000", "--csv", "--precision", "3",
                                    "SET", "bench:__rand_int__", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                                    "EX", "600"],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
                lines = [l for l in r.stdout.decode().splitlines() if l.startswith('"')]
                head = [h.strip('"') for h in lines[0].split(",")]
                vals = [v.strip('"') for v in lines[-1].split(",")]
                row = dict(zip(head, vals))
                rows.append(row)
                print("# c=%d run %d: %s" % (clients, rep + 1, row), flush=True)
            med = {k: statistics.median(float(r[k]) for r in rows)
                   for k in rows[0] if k != "test"}
            results[clients] = med
        for clients, med in results.items():
            print("clients=%d median of 3: %.0f req/s, avg %.3f ms, p50 %.3f ms, p95 %.3f ms, "
                  "p99 %.3f ms, max %.3f ms" % (clients, med["rps"], med["avg_latency_ms"],
                                                 med["p50_latency_ms"], med["p95_latency_ms"],
                                                 med["p99_latency_ms"], med["max_latency_ms"]))
        inf = a.info()
        print("# n1: repl_writes %s acked %s timed_out %s" % (inf.get("repl_writes"),
              inf.get("repl_writes_acked"), inf.get("repl_writes_timed_out")))
    finally:
        stop_all()


if __name__ == "__main__":
    try:
        if sys.argv[1:] == ["--bench"]:
            bench()
            sys.exit(0)
        sys.exit(1 if run(sys.argv[1:]) else 0)
    finally:
        stop_all()
