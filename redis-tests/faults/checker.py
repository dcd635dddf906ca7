# SPDX-License-Identifier: BSD-3-Clause
"""The fault-injection suite's history and checker (research/cluster.md section 4.3).

History: every write a client issues is an Op with a value no other write has ("c<client>:<n>",
padded for larger values), the node it went to, when it was sent (t0) and answered (t1), and its
outcome:
    ok    the node answered OK (or an integer, for DEL): a majority holds it
    fail  a definite refusal that applies nothing (NOREPLICAS, LOADING)
    info  indeterminate: the TIMEOUT error, a dropped connection, a reply that never came
          (the write may or may not have been applied; it may still appear)

Invariants (each check returns a list of violation strings; an empty list passes):
    I-ack         an acknowledged write is on every live ready node (unique-key workloads)
    I-unexpected  every value read was written to that key by some client, and never by a
                  refused (NOREPLICAS/LOADING) write; values of indeterminate writes may appear
                  and are counted as "recovered"
    I-minority    no OK for a write sent to a node while it was cut off from the majority
    I-converge    DEBUG DIGEST equal on every live node within a bound (the time is reported)
    I-lww         per key, every node holds the same (value, version), and no acknowledged write
                  was sent after the winning version was minted (same machine, same clock: a
                  write sent at t gets a version whose millisecond part is >= t)
    I-ttl-late/early  checked by the scenarios from polls (see ttl_violations)
    I-resurrect   checked by the scenarios by polling deleted/expired keys (see poll_absent)
    I-loading     a LOADING node answers reads only with -LOADING, and its first data answer is
                  complete (see LoadingProbe)

Writers are threads: each holds one connection, sends a pipeline of `depth` commands, reads the
replies, classifies them.  A connection error makes every unanswered command of the pipeline
indeterminate; the writer reconnects after a short pause.
"""
import threading
import time

from harness import RespError

NOREPLICAS = "NOREPLICAS"
LOADING = "LOADING"
TIMEOUT = "TIMEOUT"


class Op:
    __slots__ = ("client", "seq", "kind", "key", "value", "node", "t0", "t1", "status", "err",
                 "ttl_ms")

    def __init__(self, client, seq, kind, key, value, node, ttl_ms):
        self.client, self.seq, self.kind, self.key = client, seq, kind, key
        self.value, self.node, self.ttl_ms = value, node, ttl_ms
        self.t0 = self.t1 = None
        self.status = None
        self.err = None

    def __repr__(self):
        return "<%s %s %s via %s %s t0=%.3f%s>" % (self.kind, self.key, self.value[:24] if self.value else "",
                                                   self.node, self.status, self.t0 or 0,
                                                   " err=%s" % self.err if self.err else "")


def classify(reply):
    """(status, error text) of a write's reply."""
    if isinstance(reply, RespError):
        text = str(reply)
        if text.startswith(NOREPLICAS) or text.startswith(LOADING):
            return "fail", text[:40]
        return "info", text[:40]  # TIMEOUT, or anything unexpected: outcome unknown
    if reply == "OK" or isinstance(reply, int):
        return "ok", None
    return "info", "unexpected reply %r" % (reply,)


class History:
    def __init__(self):
        self.ops = []
        self.by_value = {}
        self.lock = threading.Lock()

    def new(self, client, seq, kind, key, node, ttl_ms=None, pad=0):
        value = None
        if kind == "set":
            value = ("c%d:%d" % (client, seq)).encode()
            if pad > len(value):
                value += b"|" + b"x" * (pad - len(value) - 1)
        op = Op(client, seq, kind, key, value, node, ttl_ms)
        with self.lock:
            self.ops.append(op)
            if value is not None:
                self.by_value[value] = op
        return op

    def counts(self, ops=None):
        c = {"ok": 0, "fail": 0, "info": 0, None: 0}
        for op in self.ops if ops is None else ops:
            c[op.status] += 1
        return c

    def errors(self):
        """Error texts by kind (first word) with their counts."""
        out = {}
        for op in self.ops:
            if op.status in ("fail", "info"):
                k = (op.err or "?").split()[0]
                out[k] = out.get(k, 0) + 1
        return out

    def by_key(self):
        out = {}
        for op in self.ops:
            out.setdefault(op.key, []).append(op)
        return out

    def latencies(self):
        lat = sorted(op.t1 - op.t0 for op in self.ops if op.status == "ok")
        if not lat:
            return 0.0, 0.0, 0.0
        return (lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))], lat[-1])

    def summary(self):
        c = self.counts()
        p50, p99, mx = self.latencies()
        return ("%d writes: %d acknowledged, %d failed, %d indeterminate; OK latency p50 %.1f ms "
                "p99 %.1f ms max %.1f ms; errors %s" %
                (len(self.ops), c["ok"], c["fail"], c["info"], p50 * 1000, p99 * 1000, mx * 1000,
                 self.errors() or "none"))


class Writer(threading.Thread):
    """Writes through one node until `stop` is set or pick() returns None.

    pick(seq) -> (kind, key, ttl_ms) or None.  rate: at most this many commands per second
    (None: as fast as replies come back)."""

    def __init__(self, hist, client, node, pick, stop, depth=8, rate=None, pad=0, timeout=6.0):
        super().__init__(daemon=True)
        self.hist, self.client, self.node, self.pick = hist, client, node, pick
        self.stop_ev, self.depth, self.rate, self.pad, self.timeout = stop, depth, rate, pad, timeout
        self.seq = 0
        self.done = False

    def _batch(self):
        ops = []
        for _ in range(self.depth):
            p = self.pick(self.seq)
            if p is None:
                self.done = True
                break
            kind, key, ttl_ms = p
            ops.append(self.hist.new(self.client, self.seq, kind, key, self.node.name, ttl_ms,
                                     self.pad))
            self.seq += 1
        return ops

    def run(self):
        conn = None
        started = time.time()
        sent = 0
        while not self.stop_ev.is_set() and not self.done:
            if conn is None:
                try:
                    conn = self.node.conn(timeout=self.timeout)
                except OSError:
                    time.sleep(0.05)
                    continue
            if self.rate:
                ahead = sent / self.rate - (time.time() - started)
                if ahead > 0:
                    time.sleep(min(ahead, 0.2))
                    continue
                if ahead < -0.2:  # fell behind (a stall): do not catch up in a burst
                    started, sent = time.time(), 0
            ops = self._batch()
            if not ops:
                break
            out = []
            for op in ops:
                if op.kind == "set":
                    out.append(conn.encode("SET", op.key, op.value, "PX", str(op.ttl_ms)))
                else:
                    out.append(conn.encode("DEL", op.key))
            t0 = time.time()
            for op in ops:
                op.t0 = t0
            sent += len(ops)
            try:
                conn.send(b"".join(out))
                for op in ops:
                    r = conn.read()
                    op.t1 = time.time()
                    op.status, op.err = classify(r)
            except (OSError, ConnectionError, ValueError) as e:
                now = time.time()
                for op in ops:
                    if op.status is None:
                        op.t1, op.status, op.err = now, "info", "CONN %s" % type(e).__name__
                try:
                    conn.close()
                except OSError:
                    pass
                conn = None
                time.sleep(0.05)
        if conn is not None:
            conn.close()


def run_writers(writers, seconds=None, on_tick=None, step=0.05):
    """Start writers, call on_tick(elapsed) every step until `seconds` passed (or, without a
    limit, until every writer is done), then stop and join them."""
    stop = writers[0].stop_ev if writers else threading.Event()
    t0 = time.time()
    for w in writers:
        w.start()
    try:
        while True:
            el = time.time() - t0
            if seconds is not None and el >= seconds:
                break
            if seconds is None and all(not w.is_alive() for w in writers):
                break
            if on_tick:
                on_tick(el)
            time.sleep(step)
    finally:
        stop.set()
        for w in writers:
            w.join(30)
    return time.time() - t0


# ---------------------------------------------------------------------------------------------
# reading back

def mget(node, keys, batch=500, timeout=15):
    """{key: value or None} on node; raises RespError when the node answers an error."""
    out = {}
    c = node.conn(timeout=timeout)
    try:
        keys = list(keys)
        for i in range(0, len(keys), batch):
            chunk = keys[i:i + batch]
            vals = c.cmd("MGET", *chunk)
            out.update(zip(chunk, vals))
    finally:
        c.close()
    return out


def keyinfo(node, key):
    r = node.cmd("DEBUG", "KEYINFO", key)
    if r is None:
        return None
    if isinstance(r, list):
        r = dict(zip(r[0::2], r[1::2]))
    if isinstance(r, RespError):
        raise r
    return {(k.decode() if isinstance(k, bytes) else k): v for k, v in r.items()}


def digest(node):
    r = node.cmd("DEBUG", "DIGEST")
    return r.decode() if isinstance(r, bytes) else r


def wait_converged(nodes, bound, step=0.1):
    """Seconds until every node reports the same DEBUG DIGEST and none is loading; (elapsed,
    None) on success, (elapsed, [violation]) when `bound` passes."""
    t0 = time.time()
    last = None
    while True:
        try:
            ds = {}
            for x in nodes:
                inf = x.info()
                ds[x.name] = (digest(x), inf.get("loading"))
            last = ds
            if len(set(d for d, _ in ds.values())) == 1 and all(l == "0" for _, l in ds.values()):
                return time.time() - t0, []
        except (OSError, ConnectionError) as e:
            last = repr(e)
        if time.time() - t0 > bound:
            return time.time() - t0, ["I-converge: digests still differ after %.1f s: %r" % (bound, last)]
        time.sleep(step)


# ---------------------------------------------------------------------------------------------
# invariants

class Verdict:
    """Violations by invariant, plus figures for the report."""

    def __init__(self):
        self.violations = []
        self.figures = []
        self.recovered = set()  # values of indeterminate writes seen on some node

    def add(self, items, limit=8):
        for v in items[:limit]:
            self.violations.append(v)
        if len(items) > limit:
            self.violations.append("... and %d more like the above" % (len(items) - limit))

    def fig(self, text):
        self.figures.append(text)

    @property
    def ok(self):
        return not self.violations


def check_unexpected(hist, node_name, reads, verdict=None):
    """I-unexpected over {key: value} read from one node.  Returns violations; counts
    recovered (indeterminate) values in verdict.recovered."""
    bad = []
    for key, val in reads.items():
        if val is None:
            continue
        op = hist.by_value.get(bytes(val))
        if op is None:
            bad.append("I-unexpected: %s holds %r for %s, which no client wrote" % (node_name, val[:40], key))
        elif op.key != key:
            bad.append("I-unexpected: %s holds %s's value under %s" % (node_name, op.key, key))
        elif op.status == "fail":
            bad.append("I-unexpected: %s holds %r, a write refused with %s" % (node_name, val[:40], op.err))
        elif op.status == "info" and verdict is not None:
            verdict.recovered.add(op.value)
    return bad


def check_acked(hist, node_name, reads, now=None, ops=None):
    """I-ack for keys written once (unique-key workloads): every acknowledged SET whose TTL has
    not run out is present with its value."""
    now = now or time.time()
    bad = []
    for op in hist.ops if ops is None else ops:
        if op.kind != "set" or op.status != "ok" or op.key not in reads:
            continue
        if op.ttl_ms is not None and op.t0 + op.ttl_ms / 1000.0 < now + 1.0:
            continue  # may legitimately have expired by now
        got = reads[op.key]
        if got != op.value:
            bad.append("I-ack: %s holds %r for %s, acknowledged %r through %s at %.3f" %
                       (node_name, got[:40] if got else got, op.key, op.value[:40], op.node, op.t1))
    return bad


def check_minority(hist, minority, t_start, t_end):
    """I-minority: no OK for a write sent to a minority node after the partition was in place
    and answered before it was healed."""
    bad = []
    for op in hist.ops:
        if op.node in minority and op.status == "ok" and op.t0 > t_start and op.t1 < t_end:
            bad.append("I-minority: %s answered OK to %s (sent %.3f s into the partition)" %
                       (op.node, op.key, op.t0 - t_start))
    return bad


def check_lww(hist, nodes, keys, skew_ms=0):
    """I-lww for keys written many times.  Returns (violations, figures dict)."""
    bad = []
    per_key = hist.by_key()
    winners_acked = winners_info = 0
    for key in keys:
        states = {}
        for x in nodes:
            info = keyinfo(x, key)
            val = x.cmd("GET", key)
            states[x.name] = (val, info["version"] if info else None,
                              info["tombstone"] if info else None)
        if len(set(states.values())) != 1:
            bad.append("I-lww: nodes disagree on %s: %r" % (key, states))
            continue
        val, version, _ = next(iter(states.values()))
        if version is None:
            continue
        v_ms = version >> 16
        if val is not None:
            op = hist.by_value.get(bytes(val))
            if op is None or op.key != key or op.status == "fail":
                bad.append("I-lww: %s's final value %r was not written by an acknowledged or "
                           "indeterminate write (%r)" % (key, val[:40], op))
                continue
            if op.status == "ok":
                winners_acked += 1
            else:
                winners_info += 1
        for op in per_key.get(key, []):
            if op.status == "ok" and int(op.t0 * 1000) > v_ms + skew_ms:
                bad.append("I-lww: %s's acknowledged write %r (sent at %d ms) is newer than the "
                           "winning version (%d ms) and lost" % (key, op.value[:24], int(op.t0 * 1000), v_ms))
    return bad, {"winners_acked": winners_acked, "winners_indeterminate": winners_info}


def poll_absent(nodes, keys, seconds, step=0.1, what="I-resurrect"):
    """Read keys from every node for `seconds`; any value is a violation (deleted/expired keys
    must never come back).  Returns (violations, polls)."""
    bad = []
    polls = 0
    t_end = time.time() + seconds
    while time.time() < t_end:
        for x in nodes:
            try:
                got = mget(x, keys)
            except (OSError, ConnectionError):
                continue
            except RespError as e:
                if str(e).startswith(LOADING):
                    continue
                raise
            for k, v in got.items():
                if v is not None:
                    bad.append("%s: %s returned %r for %s at %.3f" % (what, x.name, v[:40], k, time.time()))
            polls += 1
        if bad:
            break
        time.sleep(step)
    return bad, polls


class LoadingProbe(threading.Thread):
    """Polls one node with MGET of `sample` (acknowledged keys and their values) every `step`
    seconds from its start: every answer before the first data answer must be -LOADING, and the
    first data answer (and every later one) must hold every sampled value (I-loading)."""

    def __init__(self, node, sample, step=0.01, seconds=30.0):
        super().__init__(daemon=True)
        self.node, self.sample, self.step, self.seconds = node, dict(sample), step, seconds
        self.loading_answers = 0
        self.data_answers = 0
        self.first_data_at = None
        self.violations = []
        self.stop_ev = threading.Event()
        self.t_start = time.time()

    def run(self):
        keys = list(self.sample)
        conn = None
        while not self.stop_ev.is_set() and time.time() - self.t_start < self.seconds:
            try:
                if conn is None:
                    conn = self.node.conn(timeout=5)
                conn.send(conn.encode("MGET", *keys))
                r = conn.read()
            except (OSError, ConnectionError):
                conn = None
                time.sleep(self.step)
                continue
            if isinstance(r, RespError):
                if str(r).startswith(LOADING):
                    if self.data_answers:
                        self.violations.append("I-loading: -LOADING again after data answers")
                    self.loading_answers += 1
                else:
                    self.violations.append("I-loading: unexpected error %s" % r)
            else:
                missing = [k for k, v in zip(keys, r) if v != self.sample[k]]
                if self.data_answers == 0:
                    self.first_data_at = time.time()
                self.data_answers += 1
                if missing:
                    self.violations.append("I-loading: %s answered with data while %d of %d "
                                           "acknowledged keys were missing (e.g. %s)" %
                                           (self.node.name, len(missing), len(keys), missing[:3]))
                    break
                if self.data_answers >= 5:
                    break
            time.sleep(self.step)
        if conn is not None:
            conn.close()


def ttl_violations(polls, ops, skew_s, slack_s=0.15):
    """I-ttl-late / I-ttl-early from polls [(node, t_before, t_after, {key: value})] of keys
    written once with a TTL (ops: their acknowledged writes).  A key may be seen until
    t1 + ttl + skew (+ slack), and must be seen until t0 + ttl - skew (- slack)."""
    bad = []
    by_key = {op.key: op for op in ops}
    for node, tb, ta, got in polls:
        for k, v in got.items():
            op = by_key.get(k)
            if op is None or op.t1 is None:
                continue
            ttl = op.ttl_ms / 1000.0
            if v is not None and tb > op.t1 + ttl + skew_s + slack_s:
                bad.append("I-ttl-late: %s served %s %.3f s after its expiry (write answered at "
                           "%.3f, TTL %.1f s, allowed skew %.1f s)" %
                           (node, k, tb - (op.t1 + ttl), op.t1, ttl, skew_s))
            if v is None and op.status == "ok" and ta < op.t0 + ttl - skew_s - slack_s:
                bad.append("I-ttl-early: %s lost %s %.3f s before its expiry (allowed skew %.1f s)" %
                           (node, k, op.t0 + ttl - ta, skew_s))
    return bad
