# SPDX-License-Identifier: BSD-3-Clause
"""Fault-injection suite for repram's cluster repair (issue 5; research/cluster.md section 4).

    /usr/bin/python3 faults.py [SCENARIO ...]     run scenarios (default: all), print TAP lines

Eleven scenarios, 2, 3 or 5 real repram-server processes each.  Where the machine allows (root,
iproute2, iptables), every node runs in a network namespace of its own behind a bridge, and
partitions and packet loss are iptables rules on the bus port inside the nodes' namespaces
(netns.py): this process keeps reaching every node as a client, so a node cut off from the
majority is still asked to write.  Elsewhere the nodes run on loopback, isolation becomes
SIGSTOP/SIGCONT where a scenario allows it, and the scenarios that need the network are
skipped with the reason on their TAP line.

Scenario 11 (dns-cancel) is a regression test for a dial whose seed name is still resolving when
the core gives it up (commit 994f3a7: libevent calls a cancelled lookup back later, and that call
used to write into the freed link).  Its node's namespace gets a resolv.conf of its own
(/etc/netns/<namespace>/resolv.conf, removed by Env.close) naming a DNS server on 127.0.0.1 that
this script starts there (SILENT_DNS, stopped by its PID) and that never answers.  The regression
shows as an AddressSanitizer report under SANITIZE=address; a release build of the old code
passes (its stray write lands in freed memory that nothing reads).

Every write is recorded with a value no other write has (checker.py); the checker then reads
every key from every live node and verifies the invariants of research/cluster.md 4.3: I-ack,
I-unexpected, I-minority, I-converge, I-lww, I-ttl-late/early, I-resurrect, I-loading.

Timing: node-timeout 1000 ms, write-timeout 2000 ms, ae-interval 500 ms; scenario 5 uses a
tombstone grace of 6 s.  Every scenario is bounded by an alarm (SCENARIO_SECONDS) and stops its
servers by PID and removes its namespaces in a `finally`.  FAULTS_PARTITION_SECONDS shortens
scenario 3's partition (default 30, as the issue says).

Output: "ok - faults N name: ..." / "not ok - ..." per scenario, "# " lines with the figures.
Server logs: $WORK/faults-N-name/ (WORK defaults to /tmp).
"""
import itertools
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cluster"))
sys.path.insert(0, os.path.join(HERE, "..", "semantics"))
import cluster_test as ct  # noqa: E402
from checker import (History, LoadingProbe, Verdict, Writer, check_acked, check_lww,  # noqa: E402
                     check_minority, check_unexpected, classify, keyinfo, mget,
                     poll_absent, run_writers, ttl_violations, wait_converged)
from harness import RespError  # noqa: E402
from netns import BUS_PORT, RESP_PORT, Net  # noqa: E402

NODE_TIMEOUT = 1000
AE_INTERVAL = 500
SCENARIO_SECONDS = 150
PARTITION_SECONDS = float(os.environ.get("FAULTS_PARTITION_SECONDS", "30"))
BASE_EXTRA = ["--protected-mode", "no", "--enable-debug-command", "yes",
              "--ae-interval", str(AE_INTERVAL)]

WORK = ct.WORK
ETC_NETNS = "/etc/netns"
NET_REASON = Net.probe()   # None: namespaces and iptables work here
USE_NET = NET_REASON is None and os.environ.get("FAULTS_NO_NETNS") != "1"
if os.environ.get("FAULTS_NO_NETNS") == "1":
    NET_REASON = "FAULTS_NO_NETNS=1"


class Skip(Exception):
    pass


def check(cond, what):
    if not cond:
        raise ct.Failure(what)


# ---------------------------------------------------------------------------------------------
# one scenario's cluster

class Env:
    """n nodes (cluster-size `size` or n), in namespaces when possible, else on loopback."""

    current = None

    def __init__(self, n, size=None, extra=(), node_timeout=NODE_TIMEOUT, start=None):
        self.net = None
        self.problems = []
        self.etc_dirs = []  # /etc/netns/<ns> directories made by resolver(), removed by close()
        self.etc_root_made = False
        Env.current = self
        place = None
        if USE_NET:
            self.net = Net(n).setup()
            net = self.net
            place = lambda i: dict(host=net.ip(i + 1), netns=net.ns(i + 1), port=RESP_PORT,
                                   bus=BUS_PORT)
        self.nodes = ct.make_cluster(n, size=size, extra=BASE_EXTRA + list(extra),
                                     node_timeout=node_timeout, place=place, start=start)
        self.stopped = set()  # nodes isolated by SIGSTOP (fallback)

    @property
    def seeds(self):
        return [x.bus_addr for x in self.nodes]

    def idx(self, node):
        return self.nodes.index(node) + 1

    def isolate(self, node):
        """Cut node off the bus (namespaces) or stop it (fallback)."""
        if self.net:
            self.net.isolate(self.idx(node))
        else:
            node.signal(signal.SIGSTOP)
            self.stopped.add(node)

    def heal(self):
        if self.net:
            self.net.heal()
        for x in list(self.stopped):
            x.signal(signal.SIGCONT)
        self.stopped.clear()

    def resolver(self, i, text):
        """Give node i's namespace a resolv.conf of its own: `ip netns exec NS` bind-mounts
        /etc/netns/NS/resolv.conf over /etc/resolv.conf.  close() removes the directory."""
        if not os.path.isdir(ETC_NETNS):
            os.mkdir(ETC_NETNS)
            self.etc_root_made = True
        d = os.path.join(ETC_NETNS, self.net.ns(i))
        os.mkdir(d)
        self.etc_dirs.append(d)
        with open(os.path.join(d, "resolv.conf"), "w") as f:
            f.write(text)

    def close(self):
        try:
            for x in self.stopped:
                x.signal(signal.SIGCONT)
            ct.stop_all()
            if self.net:
                self.problems += self.net.cleanup()
                self.net = None
        finally:
            # after the servers: a namespace's files go even when stopping them failed
            for d in self.etc_dirs:
                shutil.rmtree(d, ignore_errors=True)
                if os.path.exists(d):
                    self.problems.append("%s still exists" % d)
            self.etc_dirs = []
            if self.etc_root_made:
                try:
                    os.rmdir(ETC_NETNS)  # only when empty: another run may be using it
                except OSError:
                    pass
                self.etc_root_made = False
            Env.current = None


def fig(verdict, fmt, *args):
    verdict.fig(fmt % args if args else fmt)


def unique_pick(prefix, ttl_ms=600000, limit=None, counter=None):
    """pick() for a unique-key workload; with a shared counter and limit, a global quota."""
    def make(cid):
        def pick(seq):
            if counter is not None:
                n = next(counter)
                if limit is not None and n >= limit:
                    return None
                return ("set", "%s:%d" % (prefix, n), ttl_ms)
            return ("set", "%s:%d:%d" % (prefix, cid, seq), ttl_ms)
        return pick
    return make


def final_checks(verdict, hist, nodes, ops=None):
    """Read every written key from every node: I-ack and I-unexpected."""
    keys = sorted(set(op.key for op in (hist.ops if ops is None else ops)))
    now = time.time()
    for x in nodes:
        reads = mget(x, keys)
        verdict.add(check_acked(hist, x.name, reads, now, ops))
        verdict.add(check_unexpected(hist, x.name, reads, verdict))
    fig(verdict, "read back %d keys from each of %d nodes; %d values of indeterminate writes "
        "recovered", len(keys), len(nodes), len(verdict.recovered))


def info_field(node, field, default="0"):
    return node.info().get(field, default)


def write_ops(hist, node, cmds, client=900):
    """Sequential writes through one node, recorded; cmds = [(kind, key, ttl_ms)].  Returns ops."""
    ops = []
    conn = node.conn(timeout=10)
    try:
        for kind, key, ttl_ms in cmds:
            op = hist.new(client, len(hist.ops), kind, key, node.name, ttl_ms)
            op.t0 = time.time()
            if kind == "set":
                conn.send(conn.encode("SET", key, op.value, "PX", str(ttl_ms)))
            else:
                conn.send(conn.encode("DEL", key))
            r = conn.read()
            op.t1 = time.time()
            op.status, op.err = classify(r)
            ops.append(op)
    finally:
        conn.close()
    return ops


def wait_values(nodes, want, seconds, what):
    """Until every node holds want {key: value or None}; returns the seconds it took."""
    t0 = time.time()
    keys = list(want)

    def done():
        return all(mget(x, keys) == want for x in nodes)
    ct.wait_until(what, done, seconds, 0.05)
    return time.time() - t0


# ---------------------------------------------------------------------------------------------
# scenarios: each returns a Verdict (violations fail it) or raises

def s_baseline():
    """20k unique writes through all three nodes; every acknowledged write is on every node and digests match within 2 s"""
    env = Env(3)
    nodes = env.nodes
    ct.wait_healthy(nodes, 15)
    v, hist, stop = Verdict(), History(), threading.Event()
    total = 20000
    make = unique_pick("b", counter=itertools.count(), limit=total)
    writers = [Writer(hist, c, nodes[c % 3], make(c), stop, depth=16) for c in range(6)]
    took = run_writers(writers)
    conv, bad = wait_converged(nodes, 2.0)
    v.add(bad)
    c = hist.counts()
    check(len(hist.ops) == total, "%d writes issued, not %d" % (len(hist.ops), total))
    if c["ok"] != total:
        v.add(["baseline: %d of %d writes not acknowledged without faults: %s" %
               (total - c["ok"], total, hist.errors())])
    fig(v, "baseline: %s; %.0f writes/s", hist.summary(), total / took)
    fig(v, "baseline: digests equal %.2f s after the load stopped (bound 2 s)", conv)
    final_checks(v, hist, nodes)
    return v


def s_crash_restart():
    """kill -9 one of three mid-load and restart it: survivors hold every acknowledged write, the restarted node answers -LOADING, then converges"""
    env = Env(3)
    a, b, c = env.nodes
    ct.wait_healthy(env.nodes, 15)
    v, hist, stop = Verdict(), History(), threading.Event()
    make = unique_pick("r")
    writers = [Writer(hist, k, env.nodes[k % 3], make(k), stop, depth=8, rate=1500) for k in range(6)]
    ev = {}

    def tick(t):
        if t >= 2.0 and "kill" not in ev:
            c.kill9()
            ev["kill"] = time.time()
        elif t >= 4.0 and "restart" not in ev:
            sample = {}
            for op in hist.ops:
                if op.status == "ok" and op.t1 < ev["kill"] and op.kind == "set":
                    sample[op.key] = op.value
            keys = random.Random(1).sample(sorted(sample), min(300, len(sample)))
            # the probe dials until the node listens: it sees its very first answers
            ev["probe"] = LoadingProbe(c, {k: sample[k] for k in keys}, step=0.005)
            ev["probe"].start()
            c.start(env.seeds)
            ev["restart"] = time.time()
    run_writers(writers, 8.0, tick)
    probe = ev["probe"]
    probe.join(30)
    conv, bad = wait_converged(env.nodes, 10.0)
    t_conv = time.time() - ev["restart"]
    ev["conv"] = conv
    v.add(bad)
    v.add(probe.violations)
    if probe.loading_answers == 0:
        v.add(["I-loading: the restarted node never answered -LOADING"])
    if probe.data_answers == 0:
        v.add(["the restarted node never served data"])
    inf = c.info()
    fig(v, "crash: %s", hist.summary())
    fig(v, "crash: n3 killed %.1f s into the load, restarted 2 s later; it answered -LOADING %d "
        "times, first data answer %.2f s after the restart (bootstrap %s batches, %s bytes from "
        "%s); digests equal %.2f s after the load stopped, %.2f s after the restart (bound 10 s)",
        ev["kill"] - hist.ops[0].t0,
        probe.loading_answers,
        (probe.first_data_at - ev["restart"]) if probe.first_data_at else -1,
        inf.get("bootstrap_batches"), inf.get("bootstrap_bytes"), inf.get("bootstrap_source"),
        ev["conv"], t_conv)
    if t_conv > 10:
        v.add(["I-converge: n3's digest equal to the others only %.1f s after its restart "
               "(bound 10 s)" % t_conv])
    # survivors hold every acknowledged write, and so does n3 now
    final_checks(v, hist, env.nodes)
    return v


def partition_minority():
    """partition 3|2 of five for 30 s (bus only; clients reach all five): the minority never answers OK; after healing all converge and hold every acknowledged write"""
    if not USE_NET:
        raise Skip("needs network namespaces and iptables: %s" % NET_REASON)
    env = Env(5, extra=["--tombstone-grace", "120"])
    nodes = env.nodes
    ct.wait_healthy(nodes, 20)
    v, hist, stop = Verdict(), History(), threading.Event()
    make = unique_pick("m")
    writers = [Writer(hist, k, nodes[k], make(k), stop, depth=4, rate=300) for k in range(5)]
    ev = {"can_write": []}
    minority = {"n4", "n5"}

    def tick(t):
        if t >= 2.0 and "part" not in ev:
            env.net.partition([[1, 2, 3], [4, 5]])
            ev["part"] = time.time()
        elif "part" in ev and "heal" not in ev:
            if time.time() - ev["part"] >= PARTITION_SECONDS:  # from when every rule is in
                env.net.heal()
                ev["heal"] = time.time()
            elif time.time() - ev.get("probe", 0) > 1.0:
                ev["probe"] = time.time()
                ev["can_write"].append(tuple(info_field(x, "can_write") for x in nodes))
    run_writers(writers, 2.0 + PARTITION_SECONDS + 4.0, tick, step=0.02)
    ev["end"] = time.time()
    if "heal" not in ev:  # the rules took seconds to insert: heal now, writes have stopped
        env.net.heal()
        ev["heal"] = ev["end"] = time.time()
    conv, bad = wait_converged(nodes, 15.0 - (time.time() - ev["heal"]))
    t_conv = time.time() - ev["heal"]
    v.add(bad)
    v.add(check_minority(hist, minority, ev["part"], ev["heal"]))
    during = [op for op in hist.ops if ev["part"] < op.t0 and op.t1 < ev["heal"]]
    maj = [op for op in during if op.node not in minority]
    mino = [op for op in during if op.node in minority]
    cm, cn = hist.counts(maj), hist.counts(mino)
    if cm["ok"] < 0.95 * len(maj):
        v.add(["majority side: only %d of %d writes acknowledged during the partition" % (cm["ok"], len(maj))])
    late = [op for op in mino if op.t0 > ev["part"] + NODE_TIMEOUT / 1000.0 + 0.5]
    fig(v, "minority: %s", hist.summary())
    fig(v, "minority: partition %.1f s; majority side %d writes, %d OK; minority side %d writes: "
        "%d OK, %d refused (NOREPLICAS), %d indeterminate; after node-timeout: %d writes, %d not "
        "NOREPLICAS", ev["heal"] - ev["part"], len(maj), cm["ok"], len(mino), cn["ok"], cn["fail"],
        cn["info"], len(late), sum(1 for op in late if op.status != "fail"))
    fig(v, "minority: can_write n1..n5 each second of the partition: %s",
        " ".join("".join(cw) for cw in ev["can_write"][:40]))
    fig(v, "minority: digests equal %.2f s after the heal (bound 15 s; writes went on for %.1f s "
        "after it), %.2f s after they stopped", t_conv, ev["end"] - ev["heal"], conv)
    final_checks(v, hist, nodes)
    return v


def ring_pairs(order):
    """The pairs to cut so that every node sees itself and its two ring neighbours: a majority
    of five, and no two nodes see the same one."""
    n = len(order)
    return [(order[k], order[(k + 2) % n]) for k in range(n)]


def shifting_partitions():
    """majorities-ring partitions of five (every node sees a different majority), reshuffled every 4 s, hot keys written through all: after healing every key holds its highest-version write everywhere"""
    if not USE_NET:
        raise Skip("needs network namespaces and iptables: %s" % NET_REASON)
    env = Env(5)
    nodes = env.nodes
    ct.wait_healthy(nodes, 20)
    v, hist, stop = Verdict(), History(), threading.Event()
    hot = ["hot:%d" % i for i in range(20)]

    def make(cid):
        rnd = random.Random(cid)
        return lambda seq: ("set", rnd.choice(hot), 600000)
    writers = [Writer(hist, k, nodes[k], make(k), stop, depth=2, rate=200) for k in range(5)]
    rnd = random.Random(42)
    ev = {"shapes": []}
    periods, period_s = 5, 4.0

    def tick(t):
        k = int(t // period_s)
        if 1 <= k <= periods and len(ev["shapes"]) < k:
            order = list(range(1, 6))
            rnd.shuffle(order)
            env.net.cut(ring_pairs(order))
            ev["shapes"].append(order)
            ev.setdefault("start", time.time())
        elif k > periods and "heal" not in ev:
            env.net.heal()
            ev["heal"] = time.time()
    run_writers(writers, period_s * (periods + 1) + 2.0, tick, step=0.02)
    conv, bad = wait_converged(nodes, 15.0 - (time.time() - ev["heal"]))
    t_conv = time.time() - ev["heal"]
    v.add(bad)
    lww, f = check_lww(hist, nodes, hot)
    v.add(lww)
    fig(v, "shifting: %s", hist.summary())
    fig(v, "shifting: %d ring shapes %s; final values: %d from acknowledged writes, %d from "
        "indeterminate ones; digests equal %.2f s after the heal", len(ev["shapes"]),
        ["".join(map(str, o)) for o in ev["shapes"]], f["winners_acked"],
        f["winners_indeterminate"], t_conv)
    for x in nodes:
        v.add(check_unexpected(hist, x.name, mget(x, hot), v))
    return v


def delete_isolated():
    """DEL while a node is isolated never comes back, also when the isolation outlasts the tombstone grace (the node wipes itself and re-syncs)"""
    grace = 6
    env = Env(3, extra=["--tombstone-grace", str(grace)])
    a, b, c = env.nodes
    ct.wait_healthy(env.nodes, 15)
    v, hist = Verdict(), History()
    keep = ["keep:%d" % i for i in range(50)]
    short = ["ds:%d" % i for i in range(50)]
    longk = ["dl:%d" % i for i in range(50)]
    ops = write_ops(hist, a, [("set", k, 600000) for k in keep + short + longk])
    check(all(op.status == "ok" for op in ops), "initial writes: %r" % [op for op in ops if op.status != "ok"][:3])
    wait_values(env.nodes, {op.key: op.value for op in ops}, 5, "initial writes everywhere")
    mode = "iptables" if env.net else "SIGSTOP"
    # 1. isolation shorter than the grace period
    env.isolate(c)
    t_iso = time.time()
    dels = write_ops(hist, a, [("del", k, None) for k in short])
    check(all(op.status == "ok" for op in dels), "DEL during the isolation: %r" % [op for op in dels if op.status != "ok"][:3])
    time.sleep(max(0.0, 2.0 - (time.time() - t_iso)))
    env.heal()
    t_heal = time.time()
    gone = wait_values(env.nodes, {k: None for k in short}, 2 * AE_INTERVAL / 1000.0 + NODE_TIMEOUT / 1000.0 + 3,
                       "deleted keys nil on every node")
    bad, polls = poll_absent(env.nodes, short, max(0.0, dels[-1].t1 + grace + 3 - time.time()) + 2)
    v.add(bad)
    fig(v, "delete (%s): isolated %.1f s < grace %d s: deleted keys nil everywhere %.2f s after the "
        "heal; %d polls of every node until past the tombstones' expiry, none came back",
        mode, t_heal - t_iso, grace, gone, polls)
    # 2. isolation longer than the grace period: n3 must wipe itself and bootstrap again
    wipes0 = int(info_field(c, "wipes"))
    env.isolate(c)
    t_iso = time.time()
    dels = write_ops(hist, a, [("del", k, None) for k in longk])
    check(all(op.status == "ok" for op in dels), "DEL during the long isolation")
    seen_loading = False
    while time.time() - t_iso < grace + 4:
        if env.net:
            try:
                if info_field(c, "loading") == "1":
                    seen_loading = True
            except (OSError, ConnectionError):
                pass
        time.sleep(0.1)
    env.heal()
    t_heal = time.time()
    if not env.net:
        # the stopped node notices the gap when it runs again
        t_w = time.time()
        while time.time() - t_w < 3 and not seen_loading:
            if info_field(c, "loading") == "1":
                seen_loading = True
            time.sleep(0.01)
    ct.wait_until("n3 ready again", lambda: info_field(c, "loading") == "0", 15)
    ready = time.time() - t_heal
    wipes = int(info_field(c, "wipes")) - wipes0
    if wipes < 1:
        v.add(["n3 was isolated %.1f s (grace %d s) and did not wipe itself" % (t_heal - t_iso, grace)])
    if not seen_loading:
        v.add(["n3 was never seen -LOADING after its wipe"])
    gone = wait_values(env.nodes, {k: None for k in longk}, 5, "deleted keys nil on every node")
    bad, polls = poll_absent(env.nodes, longk + short, 6)
    v.add(bad)
    fig(v, "delete (%s): isolated %.1f s > grace %d s: n3 wiped itself %d time(s), loading seen "
        "%s, ready %.2f s after the heal; %d polls, nothing came back", mode, t_heal - t_iso, grace,
        wipes, seen_loading, ready, polls)
    conv, bad = wait_converged(env.nodes, 10)
    v.add(bad)
    final_checks(v, hist, env.nodes, [op for op in hist.ops if op.key.startswith("keep:")])
    return v


def shorter_ttl():
    """overwriting with a shorter TTL while a node is isolated never brings the old value back; markers go after min(shadow_until, expiry + grace)"""
    grace = 8
    env = Env(3, extra=["--tombstone-grace", str(grace)])
    a, b, c = env.nodes
    ct.wait_healthy(env.nodes, 15)
    v, hist = Verdict(), History()
    keys = ["st:%d" % i for i in range(20)]
    same = ["sc:%d" % i for i in range(10)]
    ops = write_ops(hist, a, [("set", k, 600000) for k in keys + same])
    ops += write_ops(hist, b, [("set", k, 600000) for k in same])  # a refresh: same lifetime
    check(all(op.status == "ok" for op in ops), "initial writes")
    wait_values(env.nodes, {op.key: op.value for op in ops}, 5, "v1 everywhere")
    for x in env.nodes:
        for k in same:
            ki = keyinfo(x, k)
            if not ki or ki["shadow_until_ms"] != 0:
                v.add(["%s: refreshing %s with the same lifetime left a shadow: %r" % (x.name, k, ki)])
    v1_expire = keyinfo(a, keys[0])["expire_at_ms"]
    env.isolate(c)
    t_iso = time.time()
    v2 = write_ops(hist, a, [("set", k, 2000) for k in keys])
    check(all(op.status == "ok" for op in v2), "v2 writes: %r" % [op for op in v2 if op.status != "ok"][:3])
    ki = keyinfo(a, keys[0])
    check(ki["shadow_until_ms"] == v1_expire, "v2's shadow_until %r, v1 expires %r" % (ki, v1_expire))
    v2_version, v2_expire = ki["version"], ki["expire_at_ms"]
    time.sleep(max(0.0, v2_expire / 1000.0 + 0.5 - time.time()))
    marker_until = min(v1_expire, v2_expire + grace * 1000)
    mk = keyinfo(a, keys[0])
    if not mk or mk["tombstone"] != 1 or mk["version"] != v2_version or mk["expire_at_ms"] != marker_until:
        v.add(["n1 after v2 expired: %r; want a marker with v2's version %d until %d" % (mk, v2_version, marker_until)])
    env.heal()
    t_heal = time.time()
    gone = wait_values(env.nodes, {k: None for k in keys}, 2 * AE_INTERVAL / 1000.0 + NODE_TIMEOUT / 1000.0 + 3,
                       "v1 gone from every node")
    mk3 = keyinfo(c, keys[0])
    bad, polls = poll_absent(env.nodes, keys, max(0.0, marker_until / 1000.0 + 2.0 - time.time()))
    v.add(bad)
    left = [(x.name, k) for x in env.nodes for k in keys if keyinfo(x, k) is not None]
    if left:
        v.add(["markers still held after min(shadow_until, expiry + grace): %r" % left[:5]])
    bad, polls2 = poll_absent(env.nodes, keys, 2.0)
    v.add(bad)
    fig(v, "shorter TTL (%s): isolated %.1f s; n3's v1 replaced by the marker %.2f s after the "
        "heal (n3 then holds %r); %d polls up to the markers' end and 2 s past it, v1 never came "
        "back; markers gone by %d ms", "iptables" if env.net else "SIGSTOP", t_heal - t_iso, gone,
        mk3, polls + polls2, marker_until)
    conv, bad = wait_converged(env.nodes, 5)
    v.add(bad)
    for x in env.nodes:
        v.add(check_unexpected(hist, x.name, mget(x, keys + same), v))
    return v


def late_join():
    """a third node joins two that hold 50k live keys and 2k keys with a 3 s TTL under load: -LOADING until done, bootstrap within 10 s, no expired key served, converges"""
    env = Env(3, start=2)
    a, b, c = env.nodes
    ct.wait_healthy([a, b], 15, expect=2)
    v, hist, stop = Verdict(), History(), threading.Event()
    n_live, n_short = 50000, 2000
    make = unique_pick("lj", counter=itertools.count(), limit=n_live)
    writers = [Writer(hist, k, (a, b)[k % 2], make(k), stop, depth=32, pad=256) for k in range(4)]
    took = run_writers(writers)
    make = unique_pick("ls", ttl_ms=3000, counter=itertools.count(), limit=n_short)
    stop = threading.Event()
    writers = [Writer(hist, 10 + k, (a, b)[k % 2], make(10 + k), stop, depth=32) for k in range(2)]
    run_writers(writers)
    short_ops = [op for op in hist.ops if op.key.startswith("ls:") and op.status == "ok"]
    check(hist.counts()["ok"] == n_live + n_short, "loading the two nodes: %s" % hist.summary())
    fig(v, "late join: loaded %d keys of 256 bytes (%.1f s) and %d keys with a 3 s TTL",
        n_live, took, n_short)
    # start n3 under load; poll it
    live_ops = [op for op in hist.ops if op.key.startswith("lj:")]
    sample = {op.key: op.value for op in random.Random(7).sample(live_ops, 300)}
    stop = threading.Event()
    make = unique_pick("lw", ttl_ms=600000)
    load = [Writer(hist, 20 + k, x, make(20 + k), stop, depth=4, rate=300)
            for k, x in enumerate((a, b, c))]
    polls = []
    short_keys = [op.key for op in short_ops]
    ev = {}

    def tick(t):
        if "start" not in ev:
            ev["probe"] = LoadingProbe(c, sample, step=0.005)
            ev["probe"].start()
            c.start(env.seeds)
            ev["start"] = time.time()
            load[2].start()
        if time.time() - ev.get("poll", 0) > 0.2:
            ev["poll"] = time.time()
            for x in (a, c):
                tb = time.time()
                try:
                    got = mget(x, short_keys)
                except RespError:
                    continue
                polls.append((x.name, tb, time.time(), got))
        if "ready" not in ev and "start" in ev:
            try:
                if info_field(c, "loading") == "0":
                    ev["ready"] = time.time()
            except (OSError, ConnectionError):
                pass
    run_writers(load[:2], 10.0, tick, step=0.02)
    load[2].join(30)
    probe = ev["probe"]
    probe.join(30)
    v.add(probe.violations)
    if probe.loading_answers == 0:
        v.add(["I-loading: n3 never answered -LOADING"])
    if "ready" not in ev:
        v.add(["n3 did not finish its bootstrap within 10 s"])
    boot = ev.get("ready", time.time()) - ev["start"]
    conv, bad = wait_converged(env.nodes, 10)
    v.add(bad)
    v.add(ttl_violations(polls, short_ops, 0.0))
    inf = c.info()
    fig(v, "late join: n3 answered -LOADING %d times, ready %.2f s after its start (bound 10 s): "
        "%s batches, %s bytes from %s; digests equal %.2f s after ready; %d polls of the 3 s keys "
        "on n1 and n3", probe.loading_answers, boot, inf.get("bootstrap_batches"),
        inf.get("bootstrap_bytes"), inf.get("bootstrap_source"), conv, len(polls))
    fig(v, "late join: %s", hist.summary())
    final_checks(v, hist, env.nodes)
    return v


def pause():
    """SIGSTOP a node for twice the node time-out: marked failed, writes go on, it wakes without accusing others and converges"""
    env = Env(3)
    a, b, c = env.nodes
    ct.wait_healthy(env.nodes, 15)
    v, hist, stop = Verdict(), History(), threading.Event()
    make = unique_pick("p")
    writers = [Writer(hist, k, (a, b)[k % 2], make(k), stop, depth=4, rate=500) for k in range(4)]
    ev = {"views": set()}

    def tick(t):
        if t >= 1.0 and "stop" not in ev:
            c.signal(signal.SIGSTOP)
            ev["stop"] = time.time()
        elif "stop" in ev and "cont" not in ev:
            if "failed" not in ev and all(ct.peer_state(x, "n3") == "failed" for x in (a, b)):
                ev["failed"] = time.time()
            if time.time() - ev["stop"] >= 2 * NODE_TIMEOUT / 1000.0:
                c.signal(signal.SIGCONT)
                ev["cont"] = time.time()
        elif "cont" in ev and time.time() - ev["cont"] < 3.0:
            try:
                inf = c.info()
                for name in ("n1", "n2"):
                    ev["views"].add(inf["peers"].get(name, {}).get("state"))
            except (OSError, ConnectionError):
                pass
    run_writers(writers, 6.5, tick, step=0.02)
    if "failed" not in ev:
        v.add(["n3 was not marked failed on n1 and n2 while stopped %.1f s" % (2 * NODE_TIMEOUT / 1000.0)])
    elif ev["failed"] - ev["stop"] > NODE_TIMEOUT / 1000.0 + 2:
        v.add(["n3 marked failed only %.2f s after it stopped" % (ev["failed"] - ev["stop"])])
    if not ev["views"] <= {"connected", "connecting"}:
        v.add(["n3 saw its peers as %r after waking up" % ev["views"]])
    with open(c.log, "rb") as f:
        log = f.read().decode("utf-8", "replace")
    mine = "%d:" % c.proc.pid  # the log is appended to: only this process's lines count
    accusations = [l for l in log.splitlines()
                   if l.startswith(mine) and ("suspected" in l or "marked failed" in l)]
    if accusations:
        v.add(["n3 accused a peer: %r" % accusations[:2]])
    during = [op for op in hist.ops if ev["stop"] < op.t0 < ev["cont"]]
    cd = hist.counts(during)
    if cd["ok"] < len(during) - 10:
        v.add(["writes through n1/n2 while n3 was stopped: %d of %d acknowledged" % (cd["ok"], len(during))])
    conv, bad = wait_converged(env.nodes, 15)
    v.add(bad)
    fig(v, "pause: %s", hist.summary())
    fig(v, "pause: n3 stopped %.1f s, marked failed on both peers %.2f s after the stop; %d of %d "
        "writes acknowledged meanwhile; n3's view of its peers after waking: %s; digests equal "
        "%.2f s after the load", ev["cont"] - ev["stop"], ev.get("failed", 0) - ev["stop"],
        cd["ok"], len(during), sorted(x for x in ev["views"] if x), conv)
    final_checks(v, hist, env.nodes)
    return v


def lossy_bus():
    """10% then 20% random loss on every bus link (iptables statistic): no false failure at 10%, writes keep being acknowledged, converges"""
    if not USE_NET:
        raise Skip("needs network namespaces and iptables: %s" % NET_REASON)
    env = Env(3)
    nodes = env.nodes
    ct.wait_healthy(nodes, 15)
    v, hist, stop = Verdict(), History(), threading.Event()
    make = unique_pick("l")
    writers = [Writer(hist, k, nodes[k], make(k), stop, depth=4, rate=300) for k in range(3)]
    ev = {"bad10": [], "bad20": [], "drops": {}}
    p1, p2 = 20.0, 10.0

    def tick(t):
        if "p10" not in ev:
            env.net.loss(0.10)
            ev["p10"] = time.time()
        elif t >= p1 and "p20" not in ev:
            ev["drops"]["10"] = sum(env.net.counters().values())
            env.net.loss(0.20)
            ev["p20"] = time.time()
        elif t >= p1 + p2 and "heal" not in ev:
            ev["drops"]["20"] = sum(env.net.counters().values())
            env.net.heal()
            ev["heal"] = time.time()
        if "heal" not in ev and time.time() - ev.get("look", 0) > 0.1:
            ev["look"] = time.time()
            phase = "bad20" if "p20" in ev else "bad10"
            for x in nodes:
                try:
                    for name, p in x.info()["peers"].items():
                        if p.get("state") in ("suspected", "failed"):
                            ev[phase].append("%s saw %s %s at %.1f s" % (x.name, name, p["state"], t))
                except (OSError, ConnectionError):
                    pass
    run_writers(writers, p1 + p2 + 2.0, tick, step=0.02)
    conv, bad = wait_converged(nodes, 15)
    v.add(bad)
    if ev["bad10"]:
        v.add(["false failure at 10%% loss: %s" % ev["bad10"][:3]])
    ph10 = [op for op in hist.ops if ev["p10"] < op.t0 and op.t1 < ev["p20"]]
    ph20 = [op for op in hist.ops if ev["p20"] < op.t0 and op.t1 < ev["heal"]]
    c10, c20 = hist.counts(ph10), hist.counts(ph20)
    if c10["ok"] < 0.99 * len(ph10):
        v.add(["10%% loss: only %d of %d writes acknowledged" % (c10["ok"], len(ph10))])
    if c20["ok"] < 0.5 * len(ph20):
        v.add(["20%% loss: only %d of %d writes acknowledged" % (c20["ok"], len(ph20))])
    fig(v, "loss: %s", hist.summary())
    fig(v, "loss: 10%% for %.0f s: %d of %d writes acknowledged (%.2f%%), p99 %.0f ms, %d bus packets "
        "dropped, suspicions %d; 20%% for %.0f s: %d of %d acknowledged (%.2f%%), p99 %.0f ms, "
        "suspicions %d %s; digests equal %.2f s after the loss stopped",
        ev["p20"] - ev["p10"], c10["ok"], len(ph10), 100.0 * c10["ok"] / max(1, len(ph10)),
        p99(ph10), ev["drops"].get("10", 0), len(ev["bad10"]), ev["heal"] - ev["p20"], c20["ok"],
        len(ph20), 100.0 * c20["ok"] / max(1, len(ph20)), p99(ph20), len(ev["bad20"]),
        ev["bad20"][:2], time.time() - ev["heal"])
    final_checks(v, hist, nodes)
    return v


def p99(ops):
    lat = sorted(op.t1 - op.t0 for op in ops if op.status == "ok")
    return lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else 0.0


def clock_skew():
    """one node 2 s ahead (max-clock-offset 3 s): TTL bounds hold within the skew and sequential writes keep real-time order; 5 s ahead: its frames are refused and counted, idle or not, and it never gets an OK"""
    max_off = 3000
    env = Env(3, extra=["--max-clock-offset", str(max_off)])
    a, b, c = env.nodes
    ct.wait_healthy(env.nodes, 15)
    v, hist = Verdict(), History()
    check(c.cmd("DEBUG", "CLOCK-OFFSET", "2000") == "OK", "DEBUG CLOCK-OFFSET")
    time.sleep(0.5)  # a few PINGs: the others' clocks merge n3's
    # 1. TTL bounds: keys with a 5 s TTL through n1 and through n3, polled on every node
    ttl_ops = write_ops(hist, a, [("set", "ka:%d" % i, 5000) for i in range(10)], client=901)
    ttl_ops += write_ops(hist, c, [("set", "kc:%d" % i, 5000) for i in range(10)], client=902)
    check(all(op.status == "ok" for op in ttl_ops), "TTL writes: %r" % [op for op in ttl_ops if op.status != "ok"][:3])
    keys = [op.key for op in ttl_ops]
    seq_result = {}

    def sequential():
        for name, order in (("seq-acb", (a, c, a)), ("seq-cac", (c, a, c))):
            last = None
            for x in order:
                last = write_ops(hist, x, [("set", name, 600000)], client=903)[0]
                time.sleep(3.0 if x is not order[-1] else 0)
            seq_result[name] = last
    th = threading.Thread(target=sequential, daemon=True)
    th.start()
    polls = []
    t_end = time.time() + 8.5
    while time.time() < t_end:
        for x in env.nodes:
            tb = time.time()
            polls.append((x.name, tb, time.time(), mget(x, keys)))
        time.sleep(0.05)
    th.join(20)
    v.add(ttl_violations(polls, ttl_ops, 2.0))
    for name, op in seq_result.items():
        check(op.status == "ok", "sequential write %s: %r" % (name, op))
        got = wait_values(env.nodes, {name: op.value}, 3, "%s's last write on every node" % name)
        del got
    seen = {}
    for node, tb, ta, got in polls:
        for k, val in got.items():
            if val is not None:
                seen[(node, k)] = max(seen.get((node, k), 0), tb)
    lat_c = max((seen.get(("n1", k), 0) - op.t1 - 5.0) for op in ttl_ops if op.node == "n3" for k in [op.key])
    fig(v, "clock: n3 +2 s: %d polls of 20 keys with a 5 s TTL on 3 nodes; n3's keys seen on n1 up "
        "to %.2f s past their nominal expiry (bound 2 s); sequential writes 3 s apart kept "
        "real-time order", len(polls), lat_c)
    # 2. beyond the bound: n3 5 s ahead
    rej0 = sum(int(info_field(x, "bus_clock_rejections")) for x in (a, b))
    check(c.cmd("DEBUG", "CLOCK-OFFSET", "5000") == "OK", "DEBUG CLOCK-OFFSET 5000")
    time.sleep(1.5)  # no write through n3 yet: is it refused while idle?
    rej_idle = sum(int(info_field(x, "bus_clock_rejections")) for x in (a, b)) - rej0
    idle_view = ({x.name: ct.peer_state(x, "n3") for x in (a, b)}, info_field(c, "can_write"))
    if rej_idle <= 0:
        v.add(["n3 5 s ahead and idle for 1.5 s: none of its frames refused by n1/n2 (its PINGs "
               "and PONGs carry its clock too)"])
    t_skew = time.time()
    skew_ops = []
    ok_a = 0
    while time.time() - t_skew < 5.0:
        skew_ops += write_ops(hist, c, [("set", "far:%d" % len(skew_ops), 600000)], client=904)
        ok_a += write_ops(hist, a, [("set", "near:%d" % len(skew_ops), 600000)], client=905)[0].status == "ok"
        time.sleep(0.05)
    rej = sum(int(info_field(x, "bus_clock_rejections")) for x in (a, b)) - rej0
    oks = [op for op in skew_ops if op.status == "ok"]
    if oks:
        v.add(["n3 5 s ahead got OK for %d of %d writes, e.g. %r" % (len(oks), len(skew_ops), oks[:2])])
    if rej <= 0:
        v.add(["n3 5 s ahead: no clock rejection counted on n1/n2"])
    states = {x.name: ct.peer_state(x, "n3") for x in (a, b)}
    cw3 = info_field(c, "can_write")
    fig(v, "clock: n3 +5 s: %d writes through it: %s; %d of %d writes through n1 acknowledged; "
        "%d frames refused by n1+n2 (bus_clock_rejections); n3 seen as %s, n3 can_write %s",
        len(skew_ops), hist.counts(skew_ops), ok_a, len(skew_ops), rej, states, cw3)
    fig(v, "clock: n3 +5 s while idle for 1.5 s: %d frames refused by n1+n2; n1/n2 saw n3 as %s, "
        "n3 can_write %s", rej_idle, idle_view[0], idle_view[1])
    check(c.cmd("DEBUG", "CLOCK-OFFSET", "0") == "OK", "DEBUG CLOCK-OFFSET 0")
    t_fix = time.time()
    conv, bad = wait_converged(env.nodes, 20)
    v.add(bad)
    fig(v, "clock: digests equal %.2f s after n3's clock was put right", time.time() - t_fix)
    spread = []
    for op in skew_ops:
        if op.status == "info":
            ki = keyinfo(a, op.key)
            if ki and a.cmd("GET", op.key) == op.value:
                spread.append((ki["version_ms"] - int(op.t0 * 1000),
                               ki["expire_at_ms"] - int(op.t1 * 1000 + op.ttl_ms)))
    fig(v, "clock: %d of n3's indeterminate writes made while 5 s ahead reached n1 afterwards; "
        "(version ms - send time, expiry - nominal expiry) in ms: %s",
        len(spread), spread[:5])
    for x in env.nodes:
        v.add(check_unexpected(hist, x.name, mget(x, sorted(set(op.key for op in hist.ops))), v))
    return v


# A DNS server that reads queries and never answers, so every lookup stays pending (the resolver
# gives up only after options timeout:30, past the scenario).  It logs one line per query:
# "query QTYPE NAME", the name in lower case (evdns randomizes the case of the letters it sends).
SILENT_DNS = r"""
import socket, sys
out = open(sys.argv[1], "a", buffering=1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
out.write("listening\n")
while True:
    pkt = s.recvfrom(4096)[0]
    i, labels = 12, []
    while i < len(pkt) and pkt[i] and pkt[i] < 64:
        labels.append(pkt[i + 1:i + 1 + pkt[i]].decode("ascii", "replace"))
        i += 1 + pkt[i]
    qtype = int.from_bytes(pkt[i + 1:i + 3], "big") if i + 3 <= len(pkt) else 0
    out.write("query %d %s\n" % (qtype, ".".join(labels).lower()))
"""
DNS_NAMES = ("peer-a.repram.test", "peer-b.repram.test")
DNS_SECONDS = 18.0  # dials given up at 5, ~10 and ~15 s (the core's handshake limit is 5 s)
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:")
# A node stopped while lookups are pending leaks them (reported, not failed): cancelling only
# schedules libevent's deferred callbacks, which free the lookups but never run once the loop
# has stopped.
LEAK_MARK = "ERROR: LeakSanitizer"


def peer_lines(node):
    """(addr, state) of every peer line of INFO repram (seeds not yet met have no name)."""
    text = node.cmd("INFO", "repram")
    check(isinstance(text, bytes), "INFO repram on %s answered %r" % (node.name, text))
    out = []
    for line in text.decode().splitlines():
        k, _, val = line.partition(":")
        if k.startswith("peer") and k[4:].isdigit():
            f = dict(kv.split("=", 1) for kv in val.split(",") if "=" in kv)
            out.append((f.get("addr"), f.get("state")))
    return out


def dns_cancel():
    """n1 of three with two seeds named only by a DNS server that never answers: each dial is given up at the 5 s handshake limit while its name resolves and the cancelled lookup's late callback touches no freed link; n1 stays up (PING answers PONG, INFO, writes with n2), no ASan or UBSan error"""
    if not USE_NET:
        raise Skip("needs network namespaces: %s" % NET_REASON)
    # n2 is an ordinary member (numeric seed) only so that n1 reaches a quorum and leaves
    # -LOADING; n3 never runs: its seeds are the two names
    env = Env(2, size=3, start=0, extra=["--cluster-members", "n1 n2 n3"])
    a, b = env.nodes
    v = Verdict()
    env.resolver(1, "nameserver 127.0.0.1\noptions timeout:30 attempts:1\n")
    qlog = os.path.join(ct.WORK, "silent-dns.log")
    errlog = os.path.join(ct.WORK, "silent-dns.err")
    open(qlog, "w").close()

    def read(path, start=0):
        try:
            with open(path, "rb") as f:
                f.seek(start)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""
    with open(errlog, "wb") as err:
        dns = subprocess.Popen(["ip", "netns", "exec", env.net.ns(1), "/usr/bin/python3", "-c",
                                SILENT_DNS, qlog], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=err)
    ct.STARTED.append(dns)  # stopped by its PID with the nodes, whatever happens
    ct.wait_until("the silent DNS server to listen on 127.0.0.1:53 in %s (stderr: %s)" %
                  (env.net.ns(1), errlog),
                  lambda: dns.poll() is None and "listening" in read(qlog), 10)
    names = ["%s:%d" % (name, 7001 + k) for k, name in enumerate(DNS_NAMES)]
    log0 = os.path.getsize(a.log) if os.path.exists(a.log) else 0  # the log is appended to
    t0 = time.time()
    a.start([b.bus_addr] + names)
    b.start([a.bus_addr])
    pongs = polls = 0
    while time.time() - t0 < DNS_SECONDS and a.alive():
        polls += 1
        try:
            pongs += a.cmd("PING", timeout=2) == "PONG"
        except (OSError, ConnectionError):
            pass
        time.sleep(0.5)
    ran = time.time() - t0
    alive = a.alive()
    pong, peers, inf, wrote = None, [], {}, None
    if alive:
        try:
            pong = a.cmd("PING")
            inf = a.info()
            peers = peer_lines(a)
            wrote = a.cmd("SET", "dns:k", "v", "PX", "60000")
        except (OSError, ConnectionError, ct.Failure) as e:
            v.add(["n1 alive but not answering after %.1f s: %r" % (ran, e)])
        if pong != "PONG":
            v.add(["n1 answered PING with %r after %.1f s" % (pong, ran)])
        if sorted(addr for addr, _ in peers) != sorted([b.bus_addr] + names):
            v.add(["INFO repram on n1 lists peers %r, not n2 and the two names" % peers])
        if inf.get("can_write") != "1" or wrote != "OK":
            v.add(["n1 with n2 (a quorum): can_write %r, SET answered %r" %
                   (inf.get("can_write"), wrote)])
    a.stop()  # shutdown cancels the lookups still pending: the log is read after it
    code = a.proc.returncode
    dns.terminate()
    dns.wait(10)
    log = read(a.log, log0).splitlines()
    leaks = [l for l in log if l.startswith("SUMMARY: AddressSanitizer:") and "leaked" in l]
    if alive and code != 0 and not (code == 1 and any(LEAK_MARK in l for l in log)):
        v.add(["n1 exited with status %s on SIGTERM" % code])
    at = [i for i, l in enumerate(log) if any(m in l for m in SANITIZER_MARKS)]
    if not alive:
        v.add(["n1 died %.1f s after its start (exit status %s)%s" %
               (ran, code, "" if at else "; its log's tail:")] + ([] if at else log[-10:]), 12)
    if at:
        v.add(["sanitizer report in n1's log %s:" % a.log] + log[at[0]:at[0] + 4] +
              [l for l in log if l.startswith("SUMMARY:")][:1], 12)
    queries = [l.split() for l in read(qlog).splitlines() if l.startswith("query ")]
    per_name = {n: sum(1 for q in queries if q[2] == n) for n in DNS_NAMES}
    if not all(per_name.values()):
        v.add(["the silent DNS server saw no query for some seed names: %r (all: %r)" %
               (per_name, queries[:6])])
    gave_up = {n: sum(1 for l in log if "bus link to %s: handshake timed out" % n in l)
               for n in names}
    if not all(gave_up.values()):
        v.add(["n1 did not log giving up a dial to each named seed within %.1f s: %r" %
               (ran, gave_up)])
    failed = [l for l in log if any("cannot reach bus address %s" % n in l for n in names)]
    if failed:
        v.add(["a lookup was answered, so that dial failed rather than being cancelled: %r" %
               failed[:2]])
    fig(v, "dns: n1 ran %.1f s with seeds n2 and %s; the silent DNS server got %d queries (%s; "
        "query types %s); n1 gave up %d dials at the handshake limit while their names were "
        "resolving (%s); PING answered PONG %d of %d times meanwhile, then %r; INFO peers %s, "
        "can_write %s, SET %r; exit status %s after SIGTERM; sanitizer reports: %d; stopped "
        "with lookups pending: %s",
        ran, " ".join(names), len(queries), ", ".join("%s %d" % kv for kv in per_name.items()),
        "/".join(sorted(set(q[1] for q in queries))), sum(gave_up.values()),
        ", ".join("%s %d" % kv for kv in gave_up.items()), pongs, polls, pong,
        " ".join("%s=%s" % p for p in peers), inf.get("can_write"), wrote, code, len(at),
        leaks[0][len("SUMMARY: "):] if leaks else "no leak report")
    return v


SCENARIOS = [
    ("1", "baseline", s_baseline),
    ("2", "crash-restart", s_crash_restart),
    ("3", "minority", partition_minority),
    ("4", "shifting", shifting_partitions),
    ("5", "delete", delete_isolated),
    ("6", "shorter-ttl", shorter_ttl),
    ("7", "late-join", late_join),
    ("8", "pause", pause),
    ("9", "loss", lossy_bus),
    ("10", "clock-skew", clock_skew),
    ("11", "dns-cancel", dns_cancel),
]


def on_alarm(signum, frame):
    raise ct.Failure("scenario over its %d s limit" % SCENARIO_SECONDS)


def on_term(signum, frame):
    raise KeyboardInterrupt("SIGTERM")


def run(names):
    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    failed = 0
    t_all = time.time()
    print("# faults: %s" % ("network namespaces + %s" % "iptables" if USE_NET else
                             "loopback, process-level faults only (%s)" % NET_REASON), flush=True)
    for num, name, fn in SCENARIOS:
        if names and name not in names and num not in names:
            continue
        label = "faults %s %s: %s" % (num, name, (fn.__doc__ or name).strip())
        # every scenario's server logs in a directory of its own (nodes in namespaces have the
        # same names and addresses from one scenario to the next)
        ct.WORK = os.path.join(WORK, "faults-%s-%s" % (num, name))
        os.makedirs(ct.WORK, exist_ok=True)
        t0 = time.time()
        signal.alarm(SCENARIO_SECONDS)
        verdict, err = None, None
        try:
            verdict = fn()
        except Skip as e:
            err = ("skip", str(e))
        except Exception:
            err = ("error", traceback.format_exc())
        finally:
            signal.alarm(0)
            env = Env.current
            problems = []
            if env is not None:
                env.close()
                problems = env.problems
            else:
                ct.stop_all()
        took = time.time() - t0
        if err and err[0] == "skip":
            print("ok - %s # SKIP %s" % (label, err[1]), flush=True)
            continue
        if verdict is not None:
            for f in verdict.figures:
                print("# " + f, flush=True)
        if problems:
            print("#   clean-up: %s" % problems, flush=True)
        if err is None and verdict.ok and not problems:
            print("ok - %s (%.1f s)" % (label, took), flush=True)
            continue
        failed += 1
        print("not ok - %s (%.1f s)" % (label, took), flush=True)
        if err:
            for line in err[1].rstrip().splitlines()[-14:]:
                print("#   " + line, flush=True)
        else:
            for line in verdict.violations:
                print("#   " + line, flush=True)
    print("# faults: %.1f s in all" % (time.time() - t_all), flush=True)
    return failed


if __name__ == "__main__":
    try:
        sys.exit(1 if run(sys.argv[1:]) else 0)
    finally:
        if Env.current is not None:
            Env.current.close()
        ct.stop_all()
