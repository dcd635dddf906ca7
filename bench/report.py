# SPDX-License-Identifier: BSD-3-Clause
"""report.py: turns bench.py's results into latest.md and gnuplot charts.

Every figure in the report is a median over the repetitions, with the range (min..max) beside
it; a ratio is repram's median over Redis's median.  Targets come from issue 7 and are checked
here, so the report states plainly which are met.  The charts are drawn by gnuplot (pngcairo)
from small data files written next to them; `bench.py --report-only` redraws everything from
results.json without running anything.
"""

import os
import platform
import re
import subprocess

from lib import median, summary

SYSTEMS = ("repram", "redis")
MB = 1e6


def sh(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine(server_bin):
    """What the report says about the machine and the software under test."""
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    try:
        with open("/etc/debian_version") as f:
            debian = f.read().strip()
    except OSError:
        debian = "?"
    probe = sh(["sh", "-c", "command -v perf >/dev/null && perf stat -e instructions true 2>&1"])
    pmu = ("PMU not checked (perf not installed)" if not probe else
           "no hardware PMU (perf has software events only)" if "not supported" in probe else
           "hardware PMU available")
    pkgs = sh(["dpkg-query", "-W", "-f", "${Package} ${Version}\\n", "redis-server", "redis-tools",
               "valgrind", "gnuplot-nox", "libhiredis-dev", "libevent-dev", "gcc"])
    commit = sh(["git", "rev-parse", "--short", "HEAD"])
    dirty = sh(["git", "status", "--porcelain", "--untracked-files=no"])
    return {
        "cpu": "%s, %d vCPUs" % (cpu, os.cpu_count()),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "os": "Debian %s" % debian,
        "pmu": pmu,
        "packages": pkgs.splitlines(),
        "repram": "%s%s (%s)" % (commit, " + uncommitted changes" if dirty else "", server_bin),
        "redis": sh(["redis-server", "--version"]),
        "loadavg_at_start": open("/proc/loadavg").read().split()[:3],
    }


# ---- formatting


def fnum(x, digits=0):
    if x is None or x != x:
        return "n/a"
    return "{:,.{}f}".format(x, digits)


def rng(xs, digits=0):
    _, lo, hi = summary(xs)
    return "%s..%s" % (fnum(lo, digits), fnum(hi, digits))


def ratio(a, b):
    return a / b if b else float("nan")


def verdict(ok):
    return "**met**" if ok else "**missed**"


def pick(runs, **kw):
    return [r for r in runs if all(r.get(k) == v for k, v in kw.items())]


def col(runs, key):
    return [r[key] for r in runs if r.get(key) is not None]


def sleeps(runs):
    """Median server sleeps per request, or n/a for results recorded before it was measured."""
    xs = col(runs, "sleeps_per_req")
    return "%.3f" % median(xs) if xs else "n/a"


# ---- gnuplot


def gnuplot(out_dir, name, script):
    path = os.path.join(out_dir, name + ".gp")
    with open(path, "w") as f:
        f.write("set terminal pngcairo noenhanced size 1000,460 font 'DejaVu Sans,10'\n")
        f.write("set output '%s'\n" % os.path.join(out_dir, name + ".png"))
        f.write(script)
    r = subprocess.run(["gnuplot", path], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        print("gnuplot %s failed: %s" % (name, r.stderr.strip()))
    os.unlink(path)


def data_file(out_dir, name, rows):
    path = os.path.join(out_dir, "raw", name + ".dat")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        for row in rows:
            f.write(" ".join(str(x) for x in row) + "\n")
    return path


BARS = """set style data histogram
set style histogram errorbars gap 1.5 lw 1
set style fill solid 0.8 border -1
set grid ytics
set key top left
set yrange [0:*]
set bars front
"""


def bar_panel(dat, title, ylabel, extra=""):
    return (BARS + extra + "set title '%s'\nset ylabel '%s'\n"
            "plot '%s' using 2:3:4:xtic(1) title 'repram' lc rgb '#2a7ab0', "
            "'' using 5:6:7 title 'redis 7.0' lc rgb '#c0392b'\n" % (title, ylabel, dat))


def ab_rows(groups):
    """[(label, [repram values], [redis values])] -> rows of label, med, min, max per system."""
    rows = []
    for label, a, b in groups:
        ra, rb = summary(a), summary(b)
        rows.append(['"%s"' % label] + [round(x, 4) for x in ra + rb])
    return rows


# ---- sections


def sec_throughput(res, out_dir, md, checks):
    runs = res["runs"]
    tests = [("SET EX", 1), ("GET", 1), ("SET EX", 16), ("GET", 16)]
    md.append("## 1. Throughput and latency: redis-benchmark, 50 clients, 100-byte values\n")
    md.append("Both servers run at once; each holds %s keys loaded with `redis-cli --pipe` "
              "(EX 3600), so every GET hits. %d repetitions; in each, the order of the two "
              "systems alternates per test. Requests per run: %s at P1, %s at P16. "
              "Latencies are redis-benchmark's, in ms.\n"
              % (fnum(res["keys"]), res["reps"], fnum(res["requests"]["1"] if "1" in res["requests"]
                                                      else res["requests"][1]),
                 fnum(res["requests"]["16"] if "16" in res["requests"] else res["requests"][16])))
    md.append("| test | repram rps (min..max) | Redis rps (min..max) | ratio | repram p50 / p99 | "
              "Redis p50 / p99 | server CPU % repram / Redis | server CPU µs/request repram / Redis | "
              "server sleeps/request repram / Redis | foreign CPU % (median) |")
    md.append("|---|---|---|---|---|---|---|---|---|---|")
    groups_rps, groups_lat = [], []
    for cmd, pl in tests:
        a = pick(runs, system="repram", test=cmd, pipeline=pl)
        b = pick(runs, system="redis", test=cmd, pipeline=pl)
        ra, rb = median(col(a, "rps")), median(col(b, "rps"))
        q = ratio(ra, rb)
        md.append("| %s P%d | %s (%s) | %s (%s) | **%.2f** | %.3f / %.3f | %.3f / %.3f | %.0f / %.0f | %.2f / %.2f | %s / %s | %.0f |"
                  % (cmd, pl, fnum(ra), rng(col(a, "rps")), fnum(rb), rng(col(b, "rps")), q,
                     median(col(a, "p50_ms")), median(col(a, "p99_ms")), median(col(b, "p50_ms")),
                     median(col(b, "p99_ms")), median(col(a, "server_cpu_pct")),
                     median(col(b, "server_cpu_pct")), median(col(a, "cpu_us_per_req")),
                     median(col(b, "cpu_us_per_req")), sleeps(a), sleeps(b),
                     median(col(a + b, "foreign_cpu_pct"))))
        checks.append(("%s throughput, pipeline %d" % (cmd, pl), "ratio >= 1.00",
                       "%s vs %s rps" % (fnum(ra), fnum(rb)), "%.2f" % q, q >= 1.0))
        groups_rps.append(("%s P%d" % (cmd, pl), col(a, "rps"), col(b, "rps")))
        groups_lat.append(("%s P%d" % (cmd, pl), col(a, "p50_ms"), col(b, "p50_ms"),
                           col(a, "p99_ms"), col(b, "p99_ms")))
    h = res.get("hits", {})
    if h:
        md.append("\nKeyspace hits / misses over the whole scenario: " + "; ".join(
            "%s %s / %s (DBSIZE %s)" % (k, fnum(v["keyspace_hits"]), fnum(v["keyspace_misses"]),
                                        fnum(v["dbsize"])) for k, v in h.items()) + ".")
    md.append("\n![throughput](throughput.png)\n![latency](latency.png)\n")
    d1 = data_file(out_dir, "throughput_p1", ab_rows([g for g in groups_rps if "P1" in g[0] and "P16" not in g[0]]))
    d16 = data_file(out_dir, "throughput_p16", ab_rows([g for g in groups_rps if "P16" in g[0]]))
    gnuplot(out_dir, "throughput", "set multiplot layout 1,2 title 'requests per second, median and "
            "min..max (50 clients, 100-byte values)'\n" + bar_panel(d1, "pipeline 1", "requests/s")
            + bar_panel(d16, "pipeline 16", "requests/s") + "unset multiplot\n")
    d50 = data_file(out_dir, "latency_p50", ab_rows([(g[0], g[1], g[2]) for g in groups_lat]))
    d99 = data_file(out_dir, "latency_p99", ab_rows([(g[0], g[3], g[4]) for g in groups_lat]))
    gnuplot(out_dir, "latency", "set multiplot layout 1,2 title 'redis-benchmark latency, ms "
            "(median and min..max over repetitions)'\n" + bar_panel(d50, "p50", "ms")
            + bar_panel(d99, "p99", "ms") + "unset multiplot\n")


def sec_memory(res, out_dir, md, checks):
    runs = res["runs"]
    md.append("## 2. Memory: %s keys, 16-byte names, 100-byte values, EX 3600\n" % fnum(res["keys"]))
    md.append("A fresh server per run; bytes per key = (after loading - empty) / keys, from the "
              "process's RSS (`/proc/PID/status`) and from the server's own `used_memory` (INFO).\n")
    md.append("| | repram (min..max) | Redis (min..max) | ratio |")
    md.append("|---|---|---|---|")
    groups = []
    for key, label in (("rss_per_key", "bytes/key from RSS"), ("used_per_key", "bytes/key from used_memory")):
        a, b = col(pick(runs, system="repram"), key), col(pick(runs, system="redis"), key)
        md.append("| %s | **%.1f** (%s) | %.1f (%s) | %.2f |" % (label, median(a), rng(a, 1), median(b),
                                                               rng(b, 1), ratio(median(a), median(b))))
        checks.append(("memory, %s" % label, "<= 170 B/key", "%.1f vs %.1f" % (median(a), median(b)),
                       "%.2f" % ratio(median(a), median(b)), median(a) <= 170))
        groups.append((label.replace("bytes/key from ", ""), a, b))
    for key, label in (("rss_empty", "RSS empty, MB"), ("rss_loaded", "RSS loaded, MB"),
                       ("load_s", "load time, s")):
        a, b = col(pick(runs, system="repram"), key), col(pick(runs, system="redis"), key)
        div = MB if "MB" in label else 1
        md.append("| %s | %.2f | %.2f | |" % (label, median(a) / div, median(b) / div))
    md.append("\n![memory](memory.png)\n")
    d = data_file(out_dir, "memory", ab_rows(groups))
    gnuplot(out_dir, "memory", bar_panel(d, "bytes per key, 1M keys (median and min..max)", "bytes",
                                         "set arrow from graph 0, first 170 to graph 1, first 170 "
                                         "nohead dt 2 lc rgb 'black'\nset label 'target 170' at "
                                         "graph 0.85, first 178\n"))


def sec_expiry(res, out_dir, md, checks):
    runs = res["runs"]
    md.append("## 3. Expiry: %s keys with EX 5\n" % fnum(res["keys"]))
    md.append("A fresh server per run. The last deadline is `PEXPIRETIME` of the last key loaded; "
              "DBSIZE is polled every 10 ms until it reads 0; RSS is sampled then and "
              "%s s later. The RSS target is 1.2 x (empty RSS) + 10 MB, judged 5 s after DBSIZE reached 0.\n"
              % ", ".join(str(a) for a in res["after_s"][1:]))
    md.append("| | repram (min..max) | Redis (min..max) |")
    md.append("|---|---|---|")
    gone = {n: col(pick(runs, system=n), "gone_after_s") for n in SYSTEMS}
    md.append("| all keys gone, s after the last deadline | **%.3f** (%s) | %.3f (%s) |"
              % (median(gone["repram"]), rng(gone["repram"], 3), median(gone["redis"]), rng(gone["redis"], 3)))
    rows = {}
    for n in SYSTEMS:
        rr = pick(runs, system=n)
        rows[n] = {"empty": col(rr, "rss_empty"), "peak": col(rr, "rss_peak")}
        for a in res["after_s"]:
            rows[n][a] = [r["rss_after"].get(str(a), r["rss_after"].get(a)) for r in rr
                          if r["rss_after"]]
    md.append("| RSS empty, MB | %.1f | %.1f |" % (median(rows["repram"]["empty"]) / MB, median(rows["redis"]["empty"]) / MB))
    md.append("| RSS peak, MB | %.1f | %.1f |" % (median(rows["repram"]["peak"]) / MB, median(rows["redis"]["peak"]) / MB))
    for a in res["after_s"]:
        md.append("| RSS %d s after DBSIZE 0, MB | %.1f (%s) | %.1f (%s) |" % (
            a, median(rows["repram"][a]) / MB, rng([x / MB for x in rows["repram"][a]], 1),
            median(rows["redis"][a]) / MB, rng([x / MB for x in rows["redis"][a]], 1)))
    exp = {n: col(pick(runs, system=n), "expired_keys") for n in SYSTEMS}
    md.append("| expired_keys (INFO stats) | %s | %s |" % (fnum(median(exp["repram"])), fnum(median(exp["redis"]))))
    worst = max(gone["repram"]) if gone["repram"] else float("nan")
    checks.append(("expiry: all keys gone after the last deadline", "<= 0.5 s",
                   "%.3f s (worst %.3f) vs %.3f s" % (median(gone["repram"]), worst, median(gone["redis"])),
                   "%.2f" % ratio(median(gone["repram"]), median(gone["redis"])), worst <= 0.5))
    lim = 1.2 * median(rows["repram"]["empty"]) + 10 * MB
    after5 = median(rows["repram"][5]) if rows["repram"][5] else float("nan")
    checks.append(("expiry: RSS 5 s after the last key went", "<= 1.2 x empty + 10 MB = %.1f MB" % (lim / MB),
                   "%.1f MB vs Redis %.1f MB" % (after5 / MB, median(rows["redis"][5]) / MB),
                   "%.2f" % ratio(after5, median(rows["redis"][5])), after5 <= lim))
    md.append("\n![expiry](expiry.png)\n")
    plots = []
    for n, color in (("repram", "#2a7ab0"), ("redis", "#c0392b")):
        rr = [r for r in pick(runs, system=n) if r["gone_after_s"] is not None]
        if not rr:
            continue
        mid = sorted(rr, key=lambda r: r["gone_after_s"])[len(rr) // 2]
        d = data_file(out_dir, "expiry_%s" % n, [(t / 1000.0, k, rss / MB) for t, k, rss in mid["trace"]])
        plots.append("'%s' using 1:2 axes x1y1 with lines lw 2 lc rgb '%s' title '%s keys'" % (d, color, n))
        plots.append("'%s' using 1:3 axes x1y2 with lines dt 2 lw 2 lc rgb '%s' title '%s RSS (MB)'" % (d, color, n))
    gnuplot(out_dir, "expiry", "set title 'EX 5 expiry of %s keys (median run): keys left and RSS'\n" % fnum(res["keys"])
            + "set xlabel 'seconds after the last key''s deadline'\nset ylabel 'DBSIZE'\n"
            "set y2label 'RSS, MB'\nset ytics nomirror\nset y2tics\nset grid\nset key top right\n"
            "set yrange [0:*]\nset y2range [0:*]\nset format y '%.0f'\nplot " + ", ".join(plots) + "\n")


def sec_cluster(res, out_dir, md, checks):
    runs = res["runs"]
    md.append("## 4. Replicated writes: three repram nodes against a Redis primary with two replicas\n")
    md.append("repram: `SET key <100 B> EX 300` to node 1, answered once a majority (2 of 3) holds it. "
              "Redis: the same SET followed by `WAIT 1 1000` in the same write, to the primary; the "
              "latency runs to the WAIT reply. Load: `bench/loadgen` (closed loop, one request in "
              "flight per connection). %d repetitions, order alternating. Node CPU is per node, "
              "100 = one core.\n" % res["reps"])
    md.append("| clients | repram req/s (min..max) | Redis req/s (min..max) | ratio | repram p50 / p99 ms | "
              "Redis p50 / p99 ms | p99 ratio | errors + short WAITs | node CPU % repram / Redis | "
              "CPU µs/write, 3 nodes, repram / Redis | foreign CPU % |")
    md.append("|---|---|---|---|---|---|---|---|---|---|---|")
    g_rps, g_lat = [], []
    for c in (1, 50):
        a, b = pick(runs, system="repram", clients=c), pick(runs, system="redis", clients=c)
        ra, rb = median(col(a, "rps")), median(col(b, "rps"))
        pa, pb = median(col(a, "p99_ms")), median(col(b, "p99_ms"))
        err = {n: int(sum(r["errors"] + r["wait_short"] + r["unanswered"] for r in x)) for n, x in (("a", a), ("b", b))}
        cpu = {n: "/".join("%.0f" % median([r["node_cpu_pct"][i] for r in x]) for i in range(3))
               for n, x in (("a", a), ("b", b))}
        md.append("| %d | %s (%s) | %s (%s) | **%.2f** | %.3f / %.3f | %.3f / %.3f | %.2f | %d / %d | %s / %s | %.1f / %.1f | %.0f |"
                  % (c, fnum(ra), rng(col(a, "rps")), fnum(rb), rng(col(b, "rps")), ratio(ra, rb),
                     median(col(a, "p50_ms")), pa, median(col(b, "p50_ms")), pb, ratio(pa, pb),
                     err["a"], err["b"], cpu["a"], cpu["b"], median(col(a, "cpu_us_per_req")),
                     median(col(b, "cpu_us_per_req")), median(col(a + b, "foreign_cpu_pct"))))
        g_rps.append(("%d client%s" % (c, "s" if c > 1 else ""), col(a, "rps"), col(b, "rps")))
        g_lat.append(("p50 c%d" % c, col(a, "p50_ms"), col(b, "p50_ms")))
        g_lat.append(("p99 c%d" % c, col(a, "p99_ms"), col(b, "p99_ms")))
        if c == 50:
            checks.append(("cluster: majority-acked writes/s, 50 clients", "ratio >= 1.00",
                           "%s vs %s" % (fnum(ra), fnum(rb)), "%.2f" % ratio(ra, rb), ra >= rb))
            checks.append(("cluster: p99 latency, 50 clients", "ratio <= 1.00",
                           "%.3f vs %.3f ms" % (pa, pb), "%.2f" % ratio(pa, pb), pa <= pb))
        else:
            p50 = median(col(a, "p50_ms"))
            checks.append(("cluster: p50 latency, 1 client", "< 0.2 ms",
                           "%.3f vs %.3f ms" % (p50, median(col(b, "p50_ms"))),
                           "%.2f" % ratio(p50, median(col(b, "p50_ms"))), p50 < 0.2))
    md.append("\nrepram's bus is TLS 1.3 (cluster-secret); Redis's replication link is plain TCP. What "
              "the cluster's CPU per write and latency tail depend on (bus wake-ups, anti-entropy "
              "rounds under write load): bench/README.md, \"Findings and fixes\".")
    md.append("\n![cluster](cluster.png)\n")
    d1 = data_file(out_dir, "cluster_rps", ab_rows(g_rps))
    d2 = data_file(out_dir, "cluster_lat", ab_rows(g_lat))
    gnuplot(out_dir, "cluster", "set multiplot layout 1,2 title 'majority-acknowledged writes "
            "(repram 3 nodes; Redis primary + 2 replicas, SET + WAIT 1)'\n"
            + bar_panel(d1, "throughput", "writes/s") + bar_panel(d2, "latency", "ms")
            + "unset multiplot\n")


def sec_callgrind(res, out_dir, md, checks):
    runs = res["runs"]
    md.append("## 5. Instructions per request (callgrind)\n")
    md.append("Both servers run under `valgrind --tool=callgrind --instr-atstart=no` with %s keys "
              "preloaded; instrumentation is switched on only around each redis-benchmark load, and "
              "the dump's total instruction count (user space, all threads) is divided by the "
              "number of requests. Kernel time is not counted.\n" % fnum(res["keys"]))
    md.append("| load | repram Ir/request (min..max) | Redis Ir/request (min..max) | ratio |")
    md.append("|---|---|---|---|")
    groups = []
    for cmd, c, pl in (("SET EX", 1, 1), ("GET", 1, 1), ("SET EX", 50, 16), ("GET", 50, 16)):
        a = col(pick(runs, system="repram", test=cmd, pipeline=pl), "ir_per_req")
        b = col(pick(runs, system="redis", test=cmd, pipeline=pl), "ir_per_req")
        q = ratio(median(a), median(b))
        md.append("| %s c%d P%d | **%s** (%s) | %s (%s) | **%.2f** |" % (cmd, c, pl, fnum(median(a)), rng(a),
                                                                     fnum(median(b)), rng(b), q))
        checks.append(("instructions per request, %s c%d P%d" % (cmd, c, pl), "ratio <= 1.00",
                       "%s vs %s" % (fnum(median(a)), fnum(median(b))), "%.2f" % q, q <= 1.0))
        groups.append(("%s P%d" % (cmd, pl), a, b))
    tops = res.get("tops", {})
    for key in sorted(tops):
        if not key.startswith("repram"):
            continue
        rows = tops[key][:8]
        total = None
        for r in runs:
            if r["system"] == "repram" and r["rep"] == 0 and key.endswith("%s P%d" % (r["test"], r["pipeline"])):
                total = r["requests"]
        if total:
            md.append("\nrepram's top functions, %s (exclusive Ir per request): " % key[len("repram "):] + ", ".join(
                "`%s` %s" % (name.rsplit(":", 1)[-1], fnum(ir / total)) for ir, name in rows) + ".")
    md.append("\n![instructions](instructions.png)\n")
    d = data_file(out_dir, "instructions", ab_rows(groups))
    gnuplot(out_dir, "instructions", bar_panel(d, "instructions per request (callgrind, user space)",
                                               "Ir/request"))


SECTIONS = [("throughput", sec_throughput), ("memory", sec_memory), ("expiry", sec_expiry),
            ("cluster", sec_cluster), ("callgrind", sec_callgrind)]


def write(out_dir, results):
    md_body, checks = [], []
    for name, fn in SECTIONS:
        res = results["scenarios"].get(name)
        if res is None:
            md_body.append("## %s\n\nNot run, or failed (see Incidents).\n" % name)
            continue
        fn(res, out_dir, md_body, checks)
        md_body.append("(ran %s, %s s)\n" % (res.get("started", "?"), res.get("seconds", "?")))
    m = results["machine"]
    md = ["# repram against Redis: benchmark results\n",
          "Written by `make bench` (bench/bench.py) on %s%s. Every figure is the median over the "
          "repetitions (range in brackets); a ratio is repram / Redis, both measured in the same "
          "run. See bench/README.md for how to read this.\n"
          % (results["started"], " (**quick mode: smaller runs, not for comparison**)" if results.get("quick") else ""),
          "## Targets (issue 7)\n",
          "| target | goal | repram vs Redis | ratio | |", "|---|---|---|---|---|"]
    for name, goal, figs, q, ok in checks:
        md.append("| %s | %s | %s | %s | %s |" % (name, goal, figs, q, verdict(ok)))
    met = sum(1 for c in checks if c[4])
    md.append("\n%d of %d targets met.%s\n" % (met, len(checks), "" if met == len(checks) else
              " What causes the misses, with profiles: bench/README.md, \"Findings and fixes\"."))
    md += ["## Machine\n",
           "- CPU: %s; memory %s GiB; %s, kernel %s; %s" % (m["cpu"], m["memory_gib"], m["os"], m["kernel"], m["pmu"]),
           "- repram: %s" % m["repram"], "- Redis: %s" % m["redis"],
           "- packages: %s" % "; ".join(m["packages"]),
           "- load average when the run started: %s; the whole run took %s s" % (" ".join(m["loadavg_at_start"]), results.get("seconds", "?")),
           ""]
    md.append(noise_note(results))
    if results.get("incidents"):
        md.append("Incidents during this run (each was retried or reported, none is hidden):\n")
        md += ["- " + x for x in results["incidents"]]
        md.append("")
    md += md_body
    md.append("## Command lines\n")
    md.append("`$V100` stands for the 100-byte value, 100 times `x`. Ports were picked free at run "
              "time and are shown by role (`$REPRAM`, `$REDIS`, cluster nodes `$N1`..`$N3` with bus "
              "ports `$BUS_N1`.., `$PRIMARY`, `$REPLICA1`, `$REPLICA2`); each line ran once per "
              "repetition, against each server it names; `<rep>` is the repetition number. `--dir` "
              "and data files are in the scratch directory (build/bench/). Every command ran under a "
              "time-out.\n")
    for name, _ in SECTIONS:
        lines = results.get("commands", {}).get(name)
        if not lines:
            continue
        md.append("%s:\n\n```" % name)
        md += normalize_commands(lines)
        md.append("```\n")
    with open(os.path.join(out_dir, "latest.md"), "w") as f:
        f.write("\n".join(md).rstrip() + "\n")


def normalize_commands(lines):
    """Command lines with the run's free ports replaced by role names ($REPRAM, $REDIS, $N1,
    $BUS1, $PRIMARY, $REPLICA1, ...) and loadgen's per-repetition seed by <rep>, so repeated
    runs of one command collapse into one line; the rest is verbatim."""
    roles, replicas = {}, 0
    split = [l.split(" ") for l in lines]
    for tok in split:
        if "--port" not in tok:
            continue
        port = tok[tok.index("--port") + 1]
        if any("repram-server" in t for t in tok):
            if "--node-name" in tok:
                name = tok[tok.index("--node-name") + 1].upper()
                roles[port] = "$" + name
                roles[tok[tok.index("--cluster-port") + 1]] = "$BUS_" + name
            else:
                roles[port] = "$REPRAM"
        elif any("redis-server" in t for t in tok):
            if "--replicaof" in tok:
                replicas += 1
                roles[port] = "$REPLICA%d" % replicas
                roles[tok[tok.index("--replicaof") + 2]] = "$PRIMARY"
            elif port not in roles:
                roles[port] = "$REDIS"
    out = []
    for tok in split:
        t2 = []
        for i, t in enumerate(tok):
            if t in roles:
                t = roles[t]
            t = re.sub(r"127\.0\.0\.1:(\d+)", lambda m: "127.0.0.1:" + roles.get(m.group(1), m.group(1)), t)
            t = re.sub(r"^redis-(\d+)$", lambda m: "redis-" + roles.get(m.group(1), m.group(1)).lstrip("$"), t)
            if t.startswith("/") and "/build/" in t:
                t = "build/" + t.split("/build/", 1)[1]
            if i > 0 and tok[i - 1] == "-s" and "loadgen" in tok[0]:
                t = "<rep>"
            t2.append(t)
        line = " ".join(t2).replace(" ';' ", "; ").replace("'<load>'", "<load>")
        line = re.sub(r" '   # (.*)'$", r"   # \1", line)  # a comment quoted as an argument
        if line not in out:
            out.append(line)
    return out


def noise_note(results):
    """One paragraph on how busy the machine was while we measured."""
    fr, nice = [], []
    for name in ("throughput", "cluster"):
        for r in results["scenarios"].get(name, {}).get("runs", []):
            fr.append(r.get("foreign_cpu_pct", 0))
            nice.append(r.get("niced_cpu_pct", 0))
    if not fr:
        return ""
    fr.sort()
    busy = sum(1 for x in fr if x > 15)
    return ("## Noise\n\nThe machine (2 vCPUs) is shared with other work. Before each timed run the "
            "benchmark waits up to %s s for the machine to be quiet; during each run it records the CPU "
            "used by processes other than the servers and the client (\"foreign\" CPU, 100 = one core). "
            "Over the %d throughput and cluster runs, foreign CPU had median %.0f %% and maximum %.0f %%; "
            "%d runs saw more than 15 %%. Niced processes (a fuzzer at nice 19, for instance) used a "
            "median of %.0f %% of a core besides; they yield the CPU to the servers, but still take "
            "caches and wake-ups. Medians over alternating A/B repetitions are quoted for that "
            "reason; the ranges show the spread. The callgrind counts do not depend on the noise.\n"
            % (results.get("gate_s", "?"), len(fr), median(fr), fr[-1], busy, median(nice)))
