# SPDX-License-Identifier: BSD-3-Clause
"""Soak test: thousands of connections opening and closing, malformed requests mixed with valid
ones, slow readers, optionally TLS clients, against one repram-server, while a checker verifies
every valid write and read; afterwards the server's memory must come back to its baseline.

    soak.py [--seconds N] [--warmup N] [--tls CA CERT KEY] [--server PATH]

Bounded: the load runs --seconds (default 150), then everything stops by itself; the whole run
takes about seconds + warmup + 20 s.  Output is TAP, one line per check, plus "#" lines with the
figures (operations, connections, memory).  Exit status 0 when every check passed.

How it works:
  * The server is started here (free loopback port) with limits small enough to be hit:
    client-output-buffer-limit "normal 8mb 2mb 2" so slow readers get cut off.
  * Workers, each a thread with its own key space (so the expected value of every key is known
    exactly, there is one node and no other writer):
      valid    open a connection (plain or TLS), run a random batch of SET/GET/APPEND/INCR/DEL/
               MSET/MGET/EXPIRE/TTL and check every reply against a model, close (QUIT or abruptly)
      churn    connect and close as fast as it can, sometimes after a PING, holding up to 1500
               idle connections at once (two such workers)
      garbage  valid commands (checked) followed by malformed input: bad lengths, wrong types,
               unbalanced quotes, random bytes, huge counts; the server must answer the valid part
               correctly and either reply with an error or close
      slow     ask for 3 MiB values in a pipeline and read them slowly or never
  * Memory: a warm-up phase runs the same load for --warmup seconds, everything is deleted and
    the server settles: that is the baseline (allocator caches and tables have grown to their
    working size).  After the main load the same clean-up runs and used_memory (heap in use,
    INFO) must be within max(2 MiB, 5 %) of the baseline, and RSS within max(8 MiB, 10 %) of
    the baseline RSS (the server gives free heap pages back once idle; what remains is code,
    libraries and allocator bookkeeping).  A leak of a few bytes per connection over the
    10^5 connections of a run would exceed both.
  * AddressSanitizer builds (SANITIZE contains "address"): used_memory is then ASan's own count
    of heap bytes in use (server/info.c), and the server runs with an 8 MiB quarantine that gives
    free pages back to the kernel every 100 ms (ASAN_OPTIONS below), so RSS comes back as it
    does with glibc; the quarantine is added to the RSS tolerance.  With ASan's defaults (a
    256 MiB quarantine, pages kept) RSS would say nothing about leaks.
"""
import argparse
import os
import random
import socket
import ssl
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "redis-tests", "semantics"))
import harness  # noqa: E402
from harness import free_port  # noqa: E402

MB = 1024 * 1024
# AddressSanitizer settings for the server under test (see the module comment): quarantine in MiB.
ASAN_QUARANTINE_MB = 8
ASAN_SOAK_OPTIONS = "quarantine_size_mb=%d:thread_local_quarantine_size_kb=64:" \
    "allocator_release_to_os_interval_ms=100" % ASAN_QUARANTINE_MB


encode = harness.Conn.encode  # one request as a RESP multibulk


class Closed(Exception):
    pass


class Conn(harness.Conn):
    """The black-box tests' RESP connection, optionally over TLS.  A reset, a TLS failure or
    the server closing raise Closed; error replies are returned (RespError), not raised, so a
    worker can check them like any other reply."""

    def __init__(self, port, tls=None, timeout=20):
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock = tls.wrap_socket(raw, server_hostname="localhost") if tls else raw
        self.buf = b""

    def close(self):
        try:
            super().close()
        except OSError:
            pass

    def _fill(self):
        try:
            super()._fill()
        except (ConnectionResetError, ssl.SSLError) as e:
            raise Closed(str(e))
        except ConnectionError:
            raise Closed("closed")

    def cmd(self, *args):
        self.send(self.encode(*args))
        return self.read()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.c = {}
        self.failures = []

    def add(self, name, n=1):
        with self.lock:
            self.c[name] = self.c.get(name, 0) + n

    def fail(self, msg):
        with self.lock:
            if len(self.failures) < 20:
                self.failures.append(msg)


class Load:
    def __init__(self, port, tls, tls_port, stats, stop):
        self.port, self.tls, self.tls_port, self.stats, self.stop = port, tls, tls_port, stats, stop

    # -- valid: a model of this worker's keys, checked on every reply
    def valid(self, wid):
        rnd = random.Random(wid)
        model = {}
        prefix = "soak:%d:" % wid
        while not self.stop.is_set():
            use_tls = self.tls is not None and rnd.random() < 0.3
            try:
                c = Conn(self.tls_port, self.tls) if use_tls else Conn(self.port)
            except OSError as e:
                self.stats.fail("valid %d: connect: %s" % (wid, e))
                time.sleep(0.1)
                continue
            self.stats.add("connections")
            try:
                for _ in range(rnd.randint(1, 60)):
                    self.one_op(c, rnd, model, prefix)
                if rnd.random() < 0.5:
                    if c.cmd("QUIT") != "OK":
                        self.stats.fail("valid %d: QUIT" % wid)
            except Closed as e:
                self.stats.fail("valid %d: connection closed during valid commands: %s" % (wid, e))
            except AssertionError as e:
                self.stats.fail("valid %d: %s" % (wid, e))
            c.close()
        # final check: every key holds exactly what the model says
        try:
            c = Conn(self.port)
            keys = sorted(model)
            for i in range(0, len(keys), 100):
                part = keys[i:i + 100]
                got = c.cmd("MGET", *part)
                for k, v in zip(part, got):
                    if v != model[k]:
                        self.stats.fail("valid %d: final MGET %s: got %r want %r" % (wid, k, (v or b"")[:20], model[k][:20]))
                self.stats.add("final_checked", len(part))
            c.close()
        except (OSError, Closed) as e:
            self.stats.fail("valid %d: final check: %s" % (wid, e))

    def one_op(self, c, rnd, model, prefix):
        k = prefix + str(rnd.randint(0, 300))
        op = rnd.random()
        if op < 0.30:
            v = os.urandom(rnd.choice((1, 10, 100, 1000, 20000))).hex().encode()
            r = c.cmd("SET", k, v, "EX", 600)
            assert r == "OK", "SET %s -> %r" % (k, r)
            model[k] = v
        elif op < 0.55:
            r = c.cmd("GET", k)
            assert r == model.get(k), "GET %s -> %r, want %r" % (k, (r or b"")[:20], (model.get(k) or b"")[:20])
        elif op < 0.62:
            r = c.cmd("DEL", k)
            assert r == (1 if k in model else 0), "DEL %s -> %r" % (k, r)
            model.pop(k, None)
        elif op < 0.70:
            v = b"+" * rnd.randint(1, 50)
            r = c.cmd("APPEND", k, v)
            model[k] = model.get(k, b"") + v
            assert r == len(model[k]), "APPEND %s -> %r want %d" % (k, r, len(model[k]))
        elif op < 0.78:
            kk = prefix + "n" + str(rnd.randint(0, 20))
            r = c.cmd("INCR", kk)
            cur = int(model.get(kk, b"0")) + 1
            assert r == cur, "INCR %s -> %r want %d" % (kk, r, cur)
            model[kk] = str(cur).encode()
        elif op < 0.86:
            ks = [prefix + str(rnd.randint(0, 300)) for _ in range(5)]
            vs = [os.urandom(8).hex().encode() for _ in ks]
            args = []
            for a, b in zip(ks, vs):
                args += [a, b]
            assert c.cmd("MSET", *args) == "OK", "MSET"
            for a, b in zip(ks, vs):
                model[a] = b
            got = c.cmd("MGET", *ks)
            assert got == [model[a] for a in ks], "MGET after MSET"
        elif op < 0.93:
            r = c.cmd("TTL", k)
            if k in model:
                assert isinstance(r, int) and 0 < r <= 3600, "TTL %s -> %r" % (k, r)
            else:
                assert r == -2, "TTL of missing %s -> %r" % (k, r)
        else:
            # a pipeline of 50 reads and writes on one key, checked in order
            v = b"p" * rnd.randint(1, 100)
            c.send(b"".join(encode("SET", k, v + b"%d" % i) + encode("GET", k) for i in range(50)))
            for i in range(50):
                assert c.read() == "OK", "pipelined SET"
                got = c.read()
                assert got == v + b"%d" % i, "pipelined GET %r" % (got or b"")[:20]
            model[k] = v + b"49"
        self.stats.add("ops")

    # -- churn: many connections opened and closed
    def churn(self, wid):
        rnd = random.Random(1000 + wid)
        held = []
        while not self.stop.is_set():
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                self.stats.add("connections")
                r = rnd.random()
                if r < 0.3:
                    s.sendall(b"PING\r\n")
                    if s.recv(16) != b"+PONG\r\n":
                        self.stats.fail("churn: PING")
                if r < 0.2 and len(held) < 1500:
                    held.append(s)  # keep some open, idle
                else:
                    s.close()
                if len(held) >= 1500 or (held and rnd.random() < 0.0005):
                    for h in held:
                        h.close()
                    held = []
            except OSError as e:
                self.stats.fail("churn: %s" % e)
                time.sleep(0.05)
        for h in held:
            h.close()

    # -- garbage: checked valid commands, then malformed input
    BAD = [
        b"*1\r\n$-5\r\n", b"*abc\r\n", b"*1\r\n$4\r\nPI", b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$99999999999\r\n",
        b"*2147483648\r\n", b"SET k \"unbalanced\r\n", b"*1\r\nxyz\r\n", b"\x00\xff\xfe garbage\r\n",
        b"*1\r\n$3\r\nfoo\r\n", b"GET\r\n", b"SET a\r\n", b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n" * 3 + b"*-1\r\n",
        b"x" * 70000, b"*1\r\n$" + b"9" * 70000, b"HELLO 9\r\n", b"AUTH a b c d\r\n",
    ]

    def garbage(self, wid):
        rnd = random.Random(2000 + wid)
        prefix = "junk:%d:" % wid
        while not self.stop.is_set():
            try:
                c = Conn(self.port, timeout=10)
                self.stats.add("connections")
                k = prefix + str(rnd.randint(0, 50))
                v = os.urandom(rnd.randint(1, 64))
                if c.cmd("SET", k, v) != "OK" or c.cmd("GET", k) != v:
                    self.stats.fail("garbage %d: valid part answered wrongly" % wid)
                bad = rnd.choice(self.BAD) if rnd.random() < 0.8 else os.urandom(rnd.randint(1, 2000))
                c.send(bad)
                c.sock.settimeout(0.5)
                try:  # an error reply, or a close, or nothing (an incomplete request)
                    while True:
                        c._fill()
                except (Closed, socket.timeout, OSError):
                    pass
                self.stats.add("malformed")
                c.close()
            except OSError as e:
                self.stats.fail("garbage %d: %s" % (wid, e))
                time.sleep(0.05)

    # -- slow: big replies read slowly or never
    def slow(self, wid):
        rnd = random.Random(3000 + wid)
        try:
            c = Conn(self.port)
            big = b"S" * (3 * MB)
            if c.cmd("SET", "slow:big", big) != "OK":
                self.stats.fail("slow: SET")
            c.close()
        except (OSError, Closed) as e:
            self.stats.fail("slow: setup %s" % e)
        while not self.stop.is_set():
            try:
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
                s.settimeout(10)
                s.connect(("127.0.0.1", self.port))
                self.stats.add("connections")
                s.sendall(encode("GET", "slow:big") * rnd.randint(2, 12))
                end = time.time() + rnd.uniform(0.5, 5)
                got = 0
                while time.time() < end and not self.stop.is_set():
                    if rnd.random() < 0.5:  # some never read at all
                        time.sleep(0.1)
                        continue
                    try:
                        d = s.recv(4096)
                    except (socket.timeout, ConnectionResetError):
                        break
                    if not d:
                        self.stats.add("slow_cut_off")
                        break
                    got += len(d)
                    time.sleep(0.01)
                s.close()
                self.stats.add("slow_readers")
            except OSError as e:
                self.stats.fail("slow: %s" % e)
                time.sleep(0.1)


def info(port):
    c = Conn(port)
    text = c.cmd("INFO", "everything").decode()
    c.close()
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run_load(port, tls, tls_port, seconds, stats):
    stop = threading.Event()
    load = Load(port, tls, tls_port, stats, stop)
    threads = []
    for i in range(6):
        threads.append(threading.Thread(target=load.valid, args=(i,)))
    for i in range(2):
        threads.append(threading.Thread(target=load.churn, args=(i,)))
    for i in range(2):
        threads.append(threading.Thread(target=load.garbage, args=(i,)))
    for i in range(2):
        threads.append(threading.Thread(target=load.slow, args=(i,)))
    for t in threads:
        t.daemon = True
        t.start()
    end = time.time() + seconds
    while time.time() < end:
        time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join(60)
    return not any(t.is_alive() for t in threads)


def settle(port):
    """Delete everything, wait until only our own connection is left and memory is steady, then
    leave the server idle for 2.5 s (it gives freed pages back to the kernel once a second
    without commands: net.c, release_free_memory) before the figures are read."""
    c = Conn(port)
    c.cmd("FLUSHALL")
    c.close()
    deadline = time.time() + 20
    last = None
    while time.time() < deadline:
        i = info(port)
        used = int(i["used_memory"])
        if int(i["connected_clients"]) == 1 and last is not None and abs(used - last) < 4096:
            break
        last = used
        time.sleep(0.5)
    time.sleep(2.5)
    return info(port)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=150)
    ap.add_argument("--warmup", type=float, default=10)
    ap.add_argument("--tls", nargs=3, metavar=("CA", "CERT", "KEY"))
    ap.add_argument("--server", default=None)
    a = ap.parse_args()
    build = os.environ.get("BUILD", "build/release")
    if not os.path.isabs(build):
        build = os.path.join(TOP, build)
    server = a.server or os.environ.get("REPRAM_SERVER", os.path.join(build, "bin", "repram-server"))
    port = free_port()
    args = [server, "--port", str(port), "--bind", "127.0.0.1", "--maxclients", "20000",
            "--client-output-buffer-limit", "normal 8mb 2mb 2", "--timeout", "0"]
    tls, tls_port = None, None
    if a.tls:
        tport = free_port()
        args += ["--tls-port", str(tport), "--tls-cert-file", a.tls[1], "--tls-key-file", a.tls[2],
                 "--tls-ca-cert-file", a.tls[0], "--tls-auth-clients", "optional"]
        tls = ssl.create_default_context(cafile=a.tls[0])
        tls.check_hostname = False
    work = os.environ.get("WORK", "/tmp")
    log = open(os.path.join(work, "soak-server.log"), "wb")
    env = dict(os.environ)
    asan = "address" in os.environ.get("SANITIZE", "")
    if asan:  # ours last: later ASAN_OPTIONS entries win, and the RSS check needs these
        env["ASAN_OPTIONS"] = ":".join(o for o in (env.get("ASAN_OPTIONS", ""), ASAN_SOAK_OPTIONS) if o)
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
    ok_all = True

    def check(ok, name, detail=""):
        nonlocal ok_all
        print(("ok - " if ok else "not ok - ") + "soak: " + name, flush=True)
        if not ok:
            ok_all = False
            for line in str(detail).splitlines()[:20]:
                print("#   " + line, flush=True)

    try:
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError("server did not start")
                time.sleep(0.05)
        if tls:
            tls_port = int(args[args.index("--tls-port") + 1])
        t0 = time.time()
        warm = Stats()
        run_load(port, tls, tls_port, a.warmup, warm)
        base = settle(port)
        base_used, base_rss = int(base["used_memory"]), rss_kb(proc.pid)
        print("# baseline after %.0f s warm-up: used_memory %d, RSS %d kB" % (a.warmup, base_used, base_rss), flush=True)

        stats = Stats()
        peak = {"used": 0, "rss": 0, "clients": 0}
        sampler_stop = threading.Event()

        def sample():
            while not sampler_stop.is_set():
                try:
                    i = info(port)
                    peak["used"] = max(peak["used"], int(i["used_memory"]))
                    peak["clients"] = max(peak["clients"], int(i["connected_clients"]))
                    peak["rss"] = max(peak["rss"], rss_kb(proc.pid))
                except (OSError, Closed, KeyError, ValueError):
                    pass
                time.sleep(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        finished = run_load(port, tls, tls_port, a.seconds, stats)
        sampler_stop.set()
        sampler.join(5)
        after = settle(port)
        used, rss = int(after["used_memory"]), rss_kb(proc.pid)
        elapsed = time.time() - t0
        c = stats.c
        print("# load %.0f s: %d valid operations checked, %d keys checked at the end, %d connections "
              "opened, %d malformed requests, %d slow readers (%d cut off by the server)" % (
                  a.seconds, c.get("ops", 0), c.get("final_checked", 0), c.get("connections", 0),
                  c.get("malformed", 0), c.get("slow_readers", 0), c.get("slow_cut_off", 0)), flush=True)
        print("# peak: %d clients, used_memory %d, RSS %d kB; after: used_memory %d (baseline %d), "
              "RSS %d kB (baseline %d kB); total %.0f s" % (
                  peak["clients"], peak["used"], peak["rss"], used, base_used, rss, base_rss, elapsed), flush=True)
        print("# server counters: obuf_soft_limit_closes %s, obuf_hard_limit_closes %s, protocol_errors %s, "
              "querybuf_limit_closes %s, total_connections_received %s" % (
                  after.get("obuf_soft_limit_closes"), after.get("obuf_hard_limit_closes"),
                  after.get("protocol_errors"), after.get("querybuf_limit_closes"),
                  after.get("total_connections_received")), flush=True)
        check(finished, "every worker stopped by itself")
        check(proc.poll() is None, "the server is still running")
        check(not stats.failures, "every valid write and read was answered correctly (%d operations)" % c.get("ops", 0),
              "\n".join(stats.failures))
        check(c.get("connections", 0) >= 1000, "thousands of connections were opened and closed (%d)" % c.get("connections", 0))
        check(c.get("malformed", 0) > 0 and c.get("slow_readers", 0) > 0, "malformed requests and slow readers were part of the load")
        check(int(after["connected_clients"]) == 1, "every client is gone afterwards (connected_clients %s)" % after["connected_clients"])
        used_tol = max(2 * MB, base_used // 20)
        check(used <= base_used + used_tol, "used_memory%s back to its baseline: %d <= %d + %d" % (
            " (ASan's count of heap bytes in use)" if asan else "", used, base_used, used_tol))
        rss_tol = max(8 * 1024, base_rss // 10)
        how = ""
        if asan:
            rss_tol += ASAN_QUARANTINE_MB * 1024
            how = " (ASan: %d MiB quarantine included, free pages released every 100 ms)" % ASAN_QUARANTINE_MB
        check(rss <= base_rss + rss_tol, "RSS back to its baseline%s: %d kB <= %d + %d kB" % (how, rss, base_rss, rss_tol))
    except Exception as e:  # noqa: BLE001 - report anything as a failed check
        check(False, "soak test ran", repr(e))
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
