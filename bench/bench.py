#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""bench.py: repram-server against Debian's redis-server, side by side, on loopback.

What: runs five scenarios (issue 7, DESIGN.md section 10) against both servers in the same run,
alternating which system goes first at every step (A/B, B/A, ...), repeats each measurement, and
hands the figures to report.py, which writes latest.md, results.json and gnuplot charts.

  throughput  redis-benchmark, 50 clients, SET key:__rand_int__ <100 B> EX 3600 and GET on loaded
              keys (the keyspace is preloaded, so every GET hits), pipeline 1 and 16
  memory      1,000,000 keys (16-byte names, 100-byte values, EX 3600) through redis-cli --pipe;
              bytes per key from RSS and from the server's own used_memory
  expiry      1,000,000 keys with EX 5; time from the last key's deadline (its PEXPIRETIME) until
              DBSIZE is 0, and RSS after
  cluster     three repram nodes (majority acknowledgement) against a Redis primary with two
              replicas and SET ... EX followed by WAIT 1 1000, 1 and 50 clients (bench/loadgen.c)
  callgrind   instructions per request (valgrind --tool=callgrind, instrumentation switched on
              only around the load) for SET EX and GET at P1 c1 and P16 c50

Why both servers run at once in the throughput, cluster and callgrind scenarios: the machine is
shared, and its load changes from minute to minute; measuring A and B seconds apart, in both
orders, exposes them to the same noise, and the median of the repetitions resists the bursts.
Every run records the CPU the rest of the machine used meanwhile ("foreign" CPU), and each run
waits first (boundedly) for the machine to be quiet.

Every step is bounded in time: each command runs under a time-out, and each poll loop has a
deadline.  The repram binary is copied into the work directory first, so a rebuild during the
run does not change what is measured.  Start reading at main().
"""

import argparse
import json
import os
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import report  # noqa: E402

VALUE = b"x" * 100
SYSTEMS = ("repram", "redis")
KEYS = 1000000


class Ctx:
    """What every scenario needs: paths, run sizes, and the command lines it ran."""

    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.work = os.path.abspath(args.work)
        self.out = os.path.abspath(args.out)
        self.raw = os.path.join(self.out, "raw")
        self.server_bin = os.path.join(self.work, "repram-server")
        self.loadgen = os.path.abspath(args.loadgen)
        self.commands = {}  # scenario -> list of command lines (strings), in first-run order
        self.keys = 200000 if args.quick else KEYS
        self.gate_s = args.gate
        self.seq = 0
        self.incidents = []  # what went wrong and was retried, for the report

    def reps(self, default):
        return self.args.reps or (3 if self.quick else default)

    def note_cmd(self, scenario, argv, stdin=None, env=None, comment=None, raw=None):
        line = raw or " ".join(shell_quote(a) for a in argv)
        if env:
            line = " ".join("%s=%s" % kv for kv in env.items()) + " " + line
        if stdin:
            line += " < " + stdin
        if comment:
            line += "   # " + comment
        lst = self.commands.setdefault(scenario, [])
        if line not in lst:
            lst.append(line)

    def raw_path(self, name):
        self.seq += 1
        return os.path.join(self.raw, "%03d_%s" % (self.seq, name))


def shell_quote(a):
    a = str(a)
    if a == "":
        return "''"
    if len(a) == 100 and set(a) == {"x"}:
        return "$V100"  # the 100-byte value, spelled out once in the report
    if any(c in a for c in " \"'$*<>|&;()"):
        return "'" + a.replace("'", "'\\''") + "'"
    return a


# ---- servers


def start_repram(ctx, scenario, port, extra=(), env=None, wrap=(), name="repram"):
    argv = list(wrap) + [ctx.server_bin, "--port", str(port), "--bind", "127.0.0.1",
                         "--http-port", "0", "--protected-mode", "no"] + list(extra)
    shown = [a if a != ctx.server_bin else "repram-server" for a in argv]
    ctx.note_cmd(scenario, [a.replace(ctx.work + "/", "") for a in shown],
                 env={k: "<32 hex digits>" for k in (env or {})})
    return lib.Server(name, argv, port, ctx.raw_path("%s_%d.log" % (name, port)), env=env)


def start_redis(ctx, scenario, port, extra=(), wrap=(), name="redis"):
    d = os.path.join(ctx.work, "redis-%d" % port)
    os.makedirs(d, exist_ok=True)
    argv = list(wrap) + ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                         "--appendonly", "no", "--protected-mode", "no", "--dir", d] + list(extra)
    ctx.note_cmd(scenario, [a.replace(ctx.work + "/", "") for a in argv])
    return lib.Server(name, argv, port, ctx.raw_path("%s_%d.log" % (name, port)))


def start_pair(ctx, scenario, wrap=(), ready_timeout=30.0):
    p = lib.free_ports(2)
    servers = {"repram": start_repram(ctx, scenario, p[0], wrap=wrap),
               "redis": start_redis(ctx, scenario, p[1], wrap=wrap)}
    for s in servers.values():
        s.wait_ready(ready_timeout)
    return servers


def ab_order(i):
    """A/B for even steps, B/A for odd ones."""
    return SYSTEMS if i % 2 == 0 else SYSTEMS[::-1]


# ---- data


def pipe_file(ctx, n, ex):
    """RESP for n SETs of key:%012d (16 bytes) with VALUE and EX ex, for redis-cli --pipe."""
    path = os.path.join(ctx.work, "set_%d_ex%d.resp" % (n, ex))
    if os.path.exists(path):
        return path
    exs = str(ex).encode()
    tail = b"\r\n$%d\r\n%s\r\n$2\r\nEX\r\n$%d\r\n%s\r\n" % (len(VALUE), VALUE, len(exs), exs)
    with open(path + ".tmp", "wb") as f:
        for base in range(0, n, 10000):
            f.write(b"".join(b"*5\r\n$3\r\nSET\r\n$16\r\nkey:%012d" % i + tail
                             for i in range(base, min(n, base + 10000))))
    os.rename(path + ".tmp", path)
    return path


def load_pipe(ctx, scenario, server, path, n, timeout=180.0):
    argv = ["redis-cli", "-h", "127.0.0.1", "-p", str(server.port), "--pipe"]
    ctx.note_cmd(scenario, argv, stdin=os.path.basename(path))
    rc, out, wall, _ = lib.run_timed(argv, timeout, stdin_path=path)
    text = out.decode(errors="replace")
    if rc != 0 or ("errors: 0, replies: %d" % n) not in text:
        raise lib.BenchError("%s: redis-cli --pipe failed (rc %s): %s" % (server.name, rc, text[-300:]))
    return wall


# ---- scenario 1: redis-benchmark throughput


def bench_argv(port, cmd, clients, pipeline, n, keyspace):
    argv = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-c", str(clients),
            "-P", str(pipeline), "-n", str(n), "-r", str(keyspace), "--csv"]
    if cmd == "SET EX":
        return argv + ["SET", "key:__rand_int__", VALUE.decode(), "EX", "3600"]
    return argv + ["GET", "key:__rand_int__"]


def parse_bench_csv(text):
    """The data row of redis-benchmark --csv: rps, avg, min, p50, p95, p99, max (ms)."""
    for line in reversed(text.splitlines()):
        if line.startswith('"') and not line.startswith('"test"'):
            f = [x.strip('"') for x in line.split('","')]
            f[-1] = f[-1].rstrip('"')
            v = [float(x) for x in f[1:8]]
            return {"rps": v[0], "avg_ms": v[1], "p50_ms": v[3], "p95_ms": v[4], "p99_ms": v[5],
                    "max_ms": v[6]}
    raise lib.BenchError("no CSV row in redis-benchmark output: %r" % text[-300:])


def measured_run(ctx, scenario, servers, target, argv, timeout, label):
    """Gate, run argv with CPU accounting, and return (output text, accounting dict)."""
    waited, load = lib.quiet_gate(ctx.gate_s)
    cw = lib.CpuWindow([servers[target]] + [s for k, s in servers.items() if k != target])
    out_path = ctx.raw_path(label + ".txt")
    rc, out, wall, cpu = lib.run_timed(argv, timeout, out_path=out_path)
    acct = cw.finish(cpu)
    acct.update({"gate_wait_s": waited, "load_before_pct": load, "wall_s": round(wall, 2),
                 "rc": rc})
    return out.decode(errors="replace"), acct


def scen_throughput(ctx):
    sc = "throughput"
    servers = start_pair(ctx, sc)
    keys = ctx.keys
    f = pipe_file(ctx, keys, 3600)
    for name in SYSTEMS:
        load_pipe(ctx, sc, servers[name], f, keys)
    tests = [("SET EX", 1), ("GET", 1), ("SET EX", 16), ("GET", 16)]
    n_for = {1: 100000 if ctx.quick else 300000, 16: 500000 if ctx.quick else 2000000}
    runs = []
    reps = ctx.reps(5)
    for rep in range(reps):
        for ti, (cmd, pl) in enumerate(tests):
            for name in ab_order(rep + ti):
                argv = bench_argv(servers[name].port, cmd, 50, pl, n_for[pl], keys)
                ctx.note_cmd(sc, argv)
                label = "tp_%s_%s_P%d_r%d" % (name, cmd.replace(" ", ""), pl, rep)
                text, acct = measured_run(ctx, sc, servers, name, argv, 120, label)
                r = parse_bench_csv(text)
                r.update(acct, system=name, test=cmd, pipeline=pl, rep=rep,
                         server_cpu_pct=acct["server_cpu_pct"][0],
                         cpu_us_per_req=1e6 * acct["server_cpu_s"][0] / n_for[pl],
                         sleeps_per_req=acct["server_sleeps"][0] / n_for[pl])
                runs.append(r)
                print("  %-6s %-6s P%-2d rep %d: %9.0f rps  p50 %.3f  p99 %.3f ms  (foreign CPU %s%%, niced %s%%)"
                      % (name, cmd, pl, rep, r["rps"], r["p50_ms"], r["p99_ms"],
                         acct["foreign_cpu_pct"], acct["niced_cpu_pct"]), flush=True)
    hits = {}
    for name in SYSTEMS:
        c = servers[name].client()
        st = c.info("stats")
        hits[name] = {"keyspace_hits": int(st.get("keyspace_hits", 0)),
                      "keyspace_misses": int(st.get("keyspace_misses", 0)),
                      "dbsize": c.cmd("DBSIZE")}
        c.close()
        servers[name].stop()
    return {"runs": runs, "reps": reps, "keys": keys, "requests": n_for, "hits": hits}


# ---- scenario 2: memory per key


def scen_memory(ctx):
    sc = "memory"
    keys = ctx.keys
    f = pipe_file(ctx, keys, 3600)
    runs = []
    for rep in range(ctx.reps(3)):
        for name in ab_order(rep):
            port = lib.free_ports(1)[0]
            s = (start_repram if name == "repram" else start_redis)(ctx, sc, port)
            s.wait_ready()
            time.sleep(1.0)
            c = s.client()
            rss0, used0 = s.rss_bytes(), int(c.info("memory")["used_memory"])
            wall = load_pipe(ctx, sc, s, f, keys)
            time.sleep(1.0)
            mem = c.info("memory")
            dbsize = c.cmd("DBSIZE")
            rss1, used1 = s.rss_bytes(), int(mem["used_memory"])
            c.close()
            s.stop()
            r = {"system": name, "rep": rep, "rss_empty": rss0, "rss_loaded": rss1,
                 "used_empty": used0, "used_loaded": used1, "dbsize": dbsize,
                 "load_s": round(wall, 2), "rss_per_key": (rss1 - rss0) / keys,
                 "used_per_key": (used1 - used0) / keys}
            runs.append(r)
            print("  %-6s rep %d: %.1f B/key (RSS), %.1f B/key (used_memory), load %.2f s"
                  % (name, rep, r["rss_per_key"], r["used_per_key"], wall), flush=True)
    return {"runs": runs, "keys": keys}


# ---- scenario 3: expiry


AFTER_S = (0, 1, 2, 5, 10)  # RSS samples this long after DBSIZE reached 0


def expiry_once(ctx, name, rep, f, keys):
    sc = "expiry"
    port = lib.free_ports(1)[0]
    s = (start_repram if name == "repram" else start_redis)(ctx, sc, port)
    s.wait_ready()
    time.sleep(1.0)
    c = s.client()
    rss_empty = s.rss_bytes()
    load_s = load_pipe(ctx, sc, s, f, keys)
    last_deadline = c.cmd("PEXPIRETIME", "key:%012d" % (keys - 1))
    first_deadline = c.cmd("PEXPIRETIME", "key:%012d" % 0)
    ctx.note_cmd(sc, ["redis-cli", "-p", str(port), "PEXPIRETIME", "key:%012d" % (keys - 1)])
    ctx.note_cmd(sc, ["redis-cli", "-p", str(port), "DBSIZE"], comment="every 10 ms until 0")
    rss_peak = s.rss_bytes()
    trace = []
    t_zero = None
    limit = last_deadline / 1000.0 + 60.0
    next_trace = 0.0
    while time.time() < limit:
        n = c.cmd("DBSIZE")
        now = time.time()
        if now >= next_trace or n == 0:
            rss = s.rss_bytes()
            rss_peak = max(rss_peak, rss)
            trace.append((round(now * 1000 - last_deadline), n, rss))
            next_trace = now + 0.1
        if n == 0:
            t_zero = now
            break
        time.sleep(0.01)
    after = {}
    if t_zero is not None:
        for a in AFTER_S:
            delay = t_zero + a - time.time()
            if delay > 0:
                time.sleep(delay)
            after[a] = s.rss_bytes()
            trace.append((round(time.time() * 1000 - last_deadline), 0, after[a]))
    st = c.info("stats")
    c.close()
    s.stop()
    return {"system": name, "rep": rep, "rss_empty": rss_empty, "rss_peak": rss_peak,
            "load_s": round(load_s, 2), "first_deadline_ms": first_deadline,
            "last_deadline_ms": last_deadline,
            "gone_after_s": None if t_zero is None else round(t_zero - last_deadline / 1000.0, 3),
            "rss_after": after, "expired_keys": int(st.get("expired_keys", 0)), "trace": trace}


def scen_expiry(ctx):
    keys = ctx.keys
    f = pipe_file(ctx, keys, 5)
    runs = []
    for rep in range(ctx.reps(3)):
        for name in ab_order(rep):
            r = expiry_once(ctx, name, rep, f, keys)
            runs.append(r)
            g = r["gone_after_s"]
            print("  %-6s rep %d: all gone %s s after the last deadline; RSS empty %.1f MB, +5 s %.1f MB"
                  % (name, rep, "n/a" if g is None else "%.3f" % g, r["rss_empty"] / 1e6,
                     r["rss_after"].get(5, 0) / 1e6), flush=True)
    return {"runs": runs, "keys": keys, "after_s": list(AFTER_S)}


# ---- scenario 4: cluster (replicated writes)


def wait_until(pred, timeout, what):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            ok, last = pred()
            if ok:
                return
        except (OSError, lib.BenchError) as e:
            last = str(e)
        time.sleep(0.2)
    raise lib.BenchError("timed out waiting for %s (last: %s)" % (what, last))


def start_repram_cluster(ctx, sc, more=()):
    """Three nodes, ready to write.  A cluster that has not formed within 60 s is stopped and
    started once more on new ports; the failure is kept in ctx.incidents for the report."""
    for attempt in (1, 2):
        try:
            return try_repram_cluster(ctx, sc, more)
        except lib.BenchError as e:
            ctx.incidents.append("cluster scenario: a fresh three-node repram cluster did not form "
                                 "(attempt %d): %s" % (attempt, e))
            print("  " + ctx.incidents[-1], flush=True)
            for s in list(lib._started):
                if s.name.startswith("repram-n"):
                    s.stop()
            if attempt == 2:
                raise


def try_repram_cluster(ctx, sc, more):
    ports = lib.free_ports(6)
    cport, bport = ports[:3], ports[3:]
    env = {"REPRAM_CLUSTER_SECRET": os.urandom(16).hex()}
    seeds = " ".join("127.0.0.1:%d" % p for p in bport)
    nodes = []
    for i in range(3):
        extra = ["--node-name", "n%d" % (i + 1), "--cluster-size", "3", "--cluster-members",
                 "n1 n2 n3", "--cluster-port", str(bport[i]), "--seeds", seeds] + list(more)
        nodes.append(start_repram(ctx, sc, cport[i], extra=extra, env=env, name="repram-n%d" % (i + 1)))
    for s in nodes:
        s.wait_ready()

    def ready():
        for s in nodes:
            c = s.client()
            inf = c.info("repram")
            c.close()
            if not (inf.get("nodes_reachable") == "3" and inf.get("can_write") == "1"
                    and inf.get("bootstrap_phase") == "done"):
                return False, "%s: %s" % (s.name, {k: inf.get(k) for k in
                                                   ("nodes_reachable", "can_write", "bootstrap_phase")})
        return True, None

    wait_until(ready, 60, "the repram cluster to form")
    return nodes


def start_redis_replicated(ctx, sc):
    ports = lib.free_ports(3)
    primary = start_redis(ctx, sc, ports[0], name="redis-primary")
    primary.wait_ready()
    replicas = [start_redis(ctx, sc, p, extra=["--replicaof", "127.0.0.1", str(ports[0])],
                            name="redis-replica%d" % (i + 1)) for i, p in enumerate(ports[1:])]
    for s in replicas:
        s.wait_ready()

    def ready():
        c = primary.client()
        inf = c.info("replication")
        c.close()
        online = [k for k, v in inf.items() if k.startswith("slave") and "state=online" in v]
        return len(online) == 2, inf.get("connected_slaves")

    wait_until(ready, 60, "both Redis replicas to come online")
    c = primary.client()
    c.cmd("SET", "bench:probe", "1", "EX", "60")
    if c.cmd("WAIT", "2", "5000") != 2:
        raise lib.BenchError("Redis replicas do not acknowledge writes")
    c.close()
    return [primary] + replicas


def scen_cluster(ctx):
    sc = "cluster"
    groups = {"repram": start_repram_cluster(ctx, sc), "redis": start_redis_replicated(ctx, sc)}
    everyone = groups["repram"] + groups["redis"]
    loads = [(1, 5000 if ctx.quick else 20000), (50, 50000 if ctx.quick else 200000)]
    runs = []
    reps = ctx.reps(5)
    for rep in range(reps):
        for li, (clients, n) in enumerate(loads):
            for name in ab_order(rep + li):
                target = groups[name][0]
                argv = [ctx.loadgen, "-h", "127.0.0.1", "-p", str(target.port), "-c", str(clients),
                        "-n", str(n), "-T", "10", "-m", "set", "-d", "100", "-r", "1000000",
                        "-e", "300", "-s", str(rep + 1)]
                if name == "redis":
                    argv += ["-w", "1", "-W", "1000"]
                ctx.note_cmd(sc, [os.path.relpath(argv[0])] + argv[1:])
                waited, load = lib.quiet_gate(ctx.gate_s)
                cw = lib.CpuWindow(groups[name] + [s for s in everyone if s not in groups[name]])
                label = "cl_%s_c%d_r%d" % (name, clients, rep)
                rc, out, wall, cpu = lib.run_timed(argv, 30, out_path=ctx.raw_path(label + ".txt"))
                acct = cw.finish(cpu)
                text = out.decode(errors="replace")
                line = [l for l in text.splitlines() if l.startswith("requests=")]
                if not line:
                    raise lib.BenchError("loadgen failed (rc %s): %s" % (rc, text[-300:]))
                r = {k: float(v) for k, v in (kv.split("=") for kv in line[-1].split())}
                r.update(system=name, clients=clients, rep=rep, rc=rc, gate_wait_s=waited,
                         load_before_pct=load, node_cpu_pct=acct["server_cpu_pct"][:3],
                         client_cpu_pct=acct["client_cpu_pct"],
                         cpu_us_per_req=1e6 * sum(acct["server_cpu_s"][:3]) / max(1.0, r["requests"]),
                         foreign_cpu_pct=acct["foreign_cpu_pct"], niced_cpu_pct=acct["niced_cpu_pct"])
                runs.append(r)
                print("  %-6s c%-2d rep %d: %8.0f req/s  p50 %.3f  p99 %.3f ms  errors %d short %d"
                      "  (foreign CPU %s%%)" % (name, clients, rep, r["rps"], r["p50_ms"], r["p99_ms"],
                                                r["errors"], r["wait_short"], acct["foreign_cpu_pct"]),
                      flush=True)
    for s in everyone:
        s.stop()
    return {"runs": runs, "reps": reps}


# ---- scenario 5: callgrind instructions per request


def callgrind_totals(path):
    """The event count of a callgrind dump: its `totals:` line (or `summary:`)."""
    tot = None
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("totals:") or (tot is None and line.startswith("summary:")):
                tot = int(line.split()[1])
    if tot is None:
        raise lib.BenchError("no totals in %s" % path)
    return tot


def callgrind_control(ctx, *args):
    argv = ["callgrind_control"] + [str(a) for a in args]
    rc, out, _, _ = lib.run_timed(argv, 60)
    if rc != 0:
        raise lib.BenchError("%s failed: %s" % (" ".join(argv), out.decode(errors="replace")))


def newest_dump(prefix, before):
    d = os.path.dirname(prefix)
    names = [os.path.join(d, x) for x in os.listdir(d)
             if os.path.join(d, x).startswith(prefix) and os.path.join(d, x) not in before]
    if not names:
        raise lib.BenchError("callgrind wrote no dump for %s" % prefix)
    return max(names, key=os.path.getmtime)


def annotate_top(path, n=15):
    rc, out, _, _ = lib.run_timed(["callgrind_annotate", "--inclusive=no", path], 120)
    rows = []  # lines look like "776,498 (10.86%)  resp/parser.c:parse_bulks [/path/to/binary]"
    for line in out.decode(errors="replace").splitlines():
        parts = line.strip().split(None, 1)
        if len(parts) != 2 or not parts[0].replace(",", "").isdigit() or "PROGRAM TOTALS" in line:
            continue
        where = parts[1].split(")", 1)[-1].strip().rsplit(" [", 1)[0]
        rows.append((int(parts[0].replace(",", "")), where))
    return rows[:n]


def scen_callgrind(ctx):
    sc = "callgrind"
    cgdir = os.path.join(ctx.work, "callgrind")
    shutil.rmtree(cgdir, ignore_errors=True)
    os.makedirs(cgdir)
    wraps = {name: ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                    "--callgrind-out-file=%s/%s.%%p.out" % (cgdir, name)] for name in SYSTEMS}
    p = lib.free_ports(2)
    # busy-poll-us 0: under valgrind every server is "busy", and the instructions repram would
    # spend polling between requests depend on timing, not on the requests; without them the
    # count is repeatable (the throughput scenario measures the defaults, polling included).
    servers = {"repram": start_repram(ctx, sc, p[0], extra=["--busy-poll-us", "0"],
                                      wrap=wraps["repram"]),
               "redis": start_redis(ctx, sc, p[1], wrap=wraps["redis"])}
    for s in servers.values():
        s.wait_ready(120)
    keys = 100000
    f = pipe_file(ctx, keys, 3600)
    for name in SYSTEMS:
        load_pipe(ctx, sc, servers[name], f, keys, timeout=300)
    n1, n16 = (2000, 20000) if ctx.quick else (10000, 100000)
    loads = [("SET EX", 1, 1, n1), ("GET", 1, 1, n1), ("SET EX", 50, 16, n16), ("GET", 50, 16, n16)]
    runs, tops = [], {}
    for rep in range(ctx.reps(3)):
        for li, (cmd, clients, pl, n) in enumerate(loads):
            for name in ab_order(rep + li):
                s = servers[name]
                prefix = "%s/%s.%d.out" % (cgdir, name, s.pid)
                before = set(os.path.join(cgdir, x) for x in os.listdir(cgdir))
                callgrind_control(ctx, "-z", s.pid)
                callgrind_control(ctx, "-i", "on", s.pid)
                argv = bench_argv(s.port, cmd, clients, pl, n, keys)
                ctx.note_cmd(sc, argv)
                rc, out, wall, _ = lib.run_timed(argv, 600, out_path=ctx.raw_path(
                    "cg_%s_%s_P%d_r%d.txt" % (name, cmd.replace(" ", ""), pl, rep)))
                callgrind_control(ctx, "-i", "off", s.pid)
                label = "%s_P%d_r%d" % (cmd.replace(" ", ""), pl, rep)
                callgrind_control(ctx, "-d", label, s.pid)
                dump = newest_dump(prefix, before)
                ir = callgrind_totals(dump)
                if rc != 0:
                    raise lib.BenchError("redis-benchmark failed under callgrind: %s" % out[-300:])
                r = {"system": name, "test": cmd, "clients": clients, "pipeline": pl, "rep": rep,
                     "requests": n, "ir_total": ir, "ir_per_req": ir / n, "wall_s": round(wall, 1)}
                runs.append(r)
                if rep == 0:
                    tops["%s %s P%d" % (name, cmd, pl)] = annotate_top(dump)
                print("  %-6s %-6s c%-2d P%-2d rep %d: %8.0f Ir/request" %
                      (name, cmd, clients, pl, rep, r["ir_per_req"]), flush=True)
    for name in SYSTEMS:
        servers[name].stop(grace=60)
    ctx.note_cmd(sc, None, raw="callgrind_control -z PID; callgrind_control -i on PID; <load>; "
                 "callgrind_control -i off PID; callgrind_control -d LABEL PID   # around each load")
    return {"runs": runs, "tops": tops, "keys": keys}


SCENARIOS = [("throughput", scen_throughput), ("memory", scen_memory), ("expiry", scen_expiry),
             ("cluster", scen_cluster), ("callgrind", scen_callgrind)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", required=True, help="repram-server binary")
    ap.add_argument("--loadgen", required=True, help="bench/loadgen binary")
    ap.add_argument("--out", required=True, help="where latest.md, results.json, *.png go")
    ap.add_argument("--work", required=True, help="scratch directory (data files, dumps)")
    ap.add_argument("--quick", action="store_true", help="smaller runs, 3 repetitions")
    ap.add_argument("--reps", type=int, default=0, help="repetitions of every scenario")
    ap.add_argument("--only", default="", help="comma-separated scenarios to run")
    ap.add_argument("--gate", type=float, default=10.0,
                    help="seconds to wait at most before each run for the machine to be quiet")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite latest.md and the charts from OUT/results.json")
    args = ap.parse_args()
    if args.reps and args.reps < 3 and not args.quick:
        ap.error("--reps must be at least 3")
    ctx = Ctx(args)
    os.makedirs(ctx.raw, exist_ok=True)
    os.makedirs(ctx.work, exist_ok=True)
    if args.report_only:
        with open(os.path.join(ctx.out, "results.json")) as f:
            report.write(ctx.out, json.load(f))
        return 0

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: (lib.stop_all(), sys.exit(130)))
    shutil.copy2(args.server, ctx.server_bin)
    only = [x for x in args.only.split(",") if x]
    results = {"started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
               "machine": report.machine(args.server), "quick": ctx.quick, "scenarios": {}}
    t0 = time.time()
    failed = []
    for name, fn in SCENARIOS:
        if only and name not in only:
            continue
        print("== %s" % name, flush=True)
        ts = time.time()
        started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        try:
            results["scenarios"][name] = fn(ctx)
        except (lib.BenchError, OSError, ValueError, KeyError) as e:
            # One scenario failing does not throw away the others: it is reported as failed.
            failed.append(name)
            ctx.incidents.append("%s scenario failed: %s" % (name, e))
            print("  FAILED: %s" % e, flush=True)
            continue
        finally:
            lib.stop_all()
        results["scenarios"][name]["started"] = started
        results["scenarios"][name]["seconds"] = round(time.time() - ts, 1)
    results["seconds"] = round(time.time() - t0, 1)
    results["commands"] = ctx.commands
    results["incidents"] = ctx.incidents
    if only:  # keep the other scenarios of an earlier full run
        try:
            with open(os.path.join(ctx.out, "results.json")) as f:
                old = json.load(f)
            for k, v in old.get("scenarios", {}).items():
                results["scenarios"].setdefault(k, v)
            for k, v in old.get("commands", {}).items():
                results["commands"].setdefault(k, v)
        except (OSError, ValueError):
            pass
    results["gate_s"] = ctx.gate_s
    with open(os.path.join(ctx.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    with open(os.path.join(ctx.out, "results.json")) as f:
        report.write(ctx.out, json.load(f))  # the same path as --report-only: JSON keys are strings
    for p in os.listdir(ctx.work):
        if p.endswith(".resp"):
            os.unlink(os.path.join(ctx.work, p))
    print("wrote %s/latest.md (%.0f s)" % (ctx.out, results["seconds"]))
    if failed:
        print("failed scenarios: %s" % ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
