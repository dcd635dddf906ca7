# SPDX-License-Identifier: BSD-3-Clause
"""Helpers for repram's own black-box tests (behaviour that is repram's, not Redis's).

A test script does:

    from harness import Server, tap, main
    def test_something(s):            # s is a Server already listening
        r = s.conn()                  # raw RESP connection (see Conn)
        assert r.cmd("SET", "k", "v") == "OK"
    if __name__ == "__main__":
        main(globals())               # runs every test_* function, prints TAP lines

Servers are started on a free loopback port from $REPRAM_SERVER (default
$BUILD/bin/repram-server) and stopped by PID.  A test that needs its own options takes
them from a module-level dict SERVER_ARGS = {"test_name": ["--max-ttl", "10"]}.
Only /usr/bin/python3 and its standard library are needed; replies are decoded by a tiny
RESP2/RESP3 reader so exact bytes can also be checked with Conn.raw().
"""
import os
import socket
import subprocess
import sys
import time
import traceback

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("BUILD", "build/release")
if not os.path.isabs(BUILD):
    BUILD = os.path.join(TOP, BUILD)
SERVER = os.environ.get("REPRAM_SERVER", os.path.join(BUILD, "bin", "repram-server"))
IS_REDIS = os.path.basename(SERVER) == "redis-server"


class RespError(Exception):
    """An error reply; str(e) is the text after '-'."""


_handed_out = set()


def free_port():
    """A loopback port nothing listens on, whose default bus port (port + 10000) is free too,
    and not handed out before by this process (servers started later cannot collide)."""
    for _ in range(500):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", 0))
            p = s.getsockname()[1]
        finally:
            s.close()
        if p in _handed_out:
            continue
        if p + 10000 < 65536:
            t = socket.socket()
            try:
                t.bind(("127.0.0.1", p + 10000))
                _handed_out.add(p)
                return p
            except OSError:
                continue
            finally:
                t.close()
    raise RuntimeError("no free port")


class Conn:
    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    @staticmethod
    def encode(*args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, str):
                a = a.encode()
            elif isinstance(a, int):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed by server")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read(self):
        """One reply: str for simple strings, bytes for bulk, int, None, list, dict, float,
        bool; error replies are returned as RespError instances (not raised)."""
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return RespError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if t in (b"*", b"~"):
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        if t == b"%":
            n = int(rest)
            d = {}
            for _ in range(n):
                k = self.read()
                d[k] = self.read()
            return d
        if t == b"_":
            return None
        if t == b",":
            return float(rest)
        if t == b"#":
            return rest == b"t"
        if t == b"=":
            return self._exact(int(rest))[4:]
        raise ValueError("bad reply type %r" % line)

    def cmd(self, *args):
        """Send one command and return its reply; raises RespError for an error reply."""
        self.send(self.encode(*args))
        r = self.read()
        if isinstance(r, RespError):
            raise r
        return r

    def cmd_err(self, *args):
        """Send one command and return the error text; fails if the reply is not an error."""
        self.send(self.encode(*args))
        r = self.read()
        if not isinstance(r, RespError):
            raise AssertionError("expected an error reply to %r, got %r" % (args, r))
        return str(r)

    def raw(self, data, expect_bytes=None, timeout=5):
        """Send raw bytes; return whatever arrives until the server closes, `expect_bytes`
        have arrived, or `timeout` passes."""
        self.send(data)
        self.sock.settimeout(timeout)
        out = self.buf
        self.buf = b""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if expect_bytes is not None and len(out) >= expect_bytes:
                break
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
        return out


class Server:
    def __init__(self, args=(), name="server"):
        self.port = free_port()
        self.logpath = os.path.join(os.environ.get("WORK", "/tmp"), "%s-%d.log" % (name, self.port))
        cmd = [SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
        if IS_REDIS:
            cmd += ["--save", "", "--appendonly", "no"]
        else:
            cmd += ["--http-port", "0"]  # servers side by side would all want 8080; args may override
        cmd += list(args)
        self.log = open(self.logpath, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("server did not start; log %s:\n%s" % (self.logpath, open(self.logpath).read()[-2000:]))

    def conn(self, timeout=10):
        return Conn(self.port, timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def tap(ok, name, detail=""):
    print(("ok - " if ok else "not ok - ") + name, flush=True)
    if not ok and detail:
        for line in detail.rstrip().splitlines()[-15:]:
            print("#   " + line, flush=True)


def main(ns, prefix=None):
    """Run every test_* function of module namespace `ns` against a fresh default server
    (or one with SERVER_ARGS[name]); print one TAP line each."""
    prefix = prefix or os.path.splitext(os.path.basename(sys.argv[0]))[0]
    args = ns.get("SERVER_ARGS", {})
    only_repram = ns.get("REPRAM_ONLY", True)
    shared = None
    for name, fn in list(ns.items()):
        if not name.startswith("test_") or not callable(fn):
            continue
        label = "%s: %s" % (prefix, (fn.__doc__ or name).strip().splitlines()[0])
        if IS_REDIS and only_repram:
            print("ok - %s # SKIP repram-specific behaviour, server under test is redis-server" % label)
            continue
        srv = None
        try:
            if name in args:
                srv = Server(args[name], name=name)
                use = srv
            else:
                if shared is None:
                    shared = Server(name=prefix)
                use = shared
            fn(use)
            tap(True, label)
        except Exception:
            tap(False, label, traceback.format_exc())
        finally:
            if srv is not None:
                srv.stop()
    if shared is not None:
        shared.stop()
