# SPDX-License-Identifier: BSD-3-Clause
"""Small RESP clients for suite-security (Python standard library only).

    tls_client.py traffic PORT CA CERT KEY
        Over TLS: pipelined SET/GET of many values checked one by one, a pipeline whose
        replies pass the server's 1 MiB output high-water mark, and an 8 MiB value read back by
        a slow reader in small pieces (the server's writes block and resume).  Prints "ok" or
        what went wrong; exit status 0 or 1.
    tls_client.py probe HOST PORT [--source ADDR] [--tls CA CERT KEY] [--send DATA] [--wait S]
        Connect (from ADDR when given), send DATA (default "PING\\r\\n", escapes allowed),
        print the reply bytes received until the server closes (repr), or "(open)" and what came
        after S seconds (default 1.5).
    tls_client.py idle PORT SECONDS
        Plain TCP to PORT, send nothing; print how long the server took to close it, or
        "(open)" after SECONDS.
"""
import os
import socket
import ssl
import sys
import time


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Reader:
    def __init__(self, sock, chunk=65536, delay=0.0):
        self.sock, self.buf, self.chunk, self.delay = sock, b"", chunk, delay

    def fill(self):
        if self.delay:
            time.sleep(self.delay)
        data = self.sock.recv(self.chunk)
        if not data:
            raise ConnectionError("closed by the server")
        self.buf += data

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self.line()
        if line[:1] in (b"+", b"-", b":"):
            return line
        if line[:1] == b"$":
            n = int(line[1:])
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.fill()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        raise ValueError("unexpected reply %r" % line[:40])


def tls_context(ca, cert=None, key=None):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False  # the test certificate names localhost and 127.0.0.1 anyway
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


def traffic(port, ca, cert, key):
    ctx = tls_context(ca, cert, key)
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    r = Reader(s)
    # 1. Pipelined writes and reads of distinct values.
    n = 2000
    values = [os.urandom(16).hex().encode() * (i % 64 + 1) for i in range(n)]
    s.sendall(b"".join(encode("SET", "t:%d" % i, values[i]) for i in range(n)))
    for i in range(n):
        got = r.reply()
        if got != b"+OK":
            return "SET %d answered %r" % (i, got[:40])
    s.sendall(b"".join(encode("GET", "t:%d" % i) for i in range(n)))
    for i in range(n):
        got = r.reply()
        if got != values[i]:
            return "GET t:%d returned a wrong value" % i
    # 2. Replies past the 1 MiB high-water mark: 400 x 16 KiB = 6.4 MiB pipelined.
    big = b"B" * 16384
    s.sendall(encode("SET", "t:big16k", big))
    if r.reply() != b"+OK":
        return "SET t:big16k failed"
    s.sendall(encode("GET", "t:big16k") * 400)
    for i in range(400):
        if r.reply() != big:
            return "pipelined GET %d of 16 KiB returned a wrong value" % i
    # 3. An 8 MiB value, written back to a reader that takes 4 KiB at a time, slowly at first.
    huge = os.urandom(4 * 1024 * 1024).hex().encode()
    s.sendall(encode("SET", "t:huge", huge))
    if r.reply() != b"+OK":
        return "SET t:huge failed"
    s.sendall(encode("GET", "t:huge") + encode("PING"))
    slow = Reader(s, chunk=4096, delay=0.0)
    slow.buf = r.buf
    for _ in range(50):  # the first 200 KiB slowly, then at full speed
        time.sleep(0.002)
        slow.fill()
    slow.chunk = 1 << 20
    if slow.reply() != huge:
        return "GET t:huge returned a wrong value"
    if slow.reply() != b"+PONG":
        return "PING after GET t:huge failed"
    s.close()
    return "ok"


def probe(host, port, source=None, tls=None, data=b"PING\r\n", wait=1.5):
    raw = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    raw.settimeout(wait)
    if source:
        raw.bind((source, 0))
    raw.connect((host, port))
    s = raw
    if tls:
        s = tls_context(*tls).wrap_socket(raw, server_hostname="localhost")
    got = b""
    try:
        s.sendall(data)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        return "(open) %r" % got
    except (ConnectionResetError, ssl.SSLError) as e:
        return "%r (%s)" % (got, e.__class__.__name__)
    return repr(got)


def idle(port, secs):
    s = socket.create_connection(("127.0.0.1", port), timeout=secs)
    start = time.time()
    try:
        data = s.recv(1024)
    except socket.timeout:
        return "(open)"
    except ConnectionResetError:
        data = b""
    return "closed after %.1f s%s" % (time.time() - start, (" with %r" % data) if data else "")


def main(argv):
    if len(argv) >= 6 and argv[1] == "traffic":
        res = traffic(int(argv[2]), argv[3], argv[4], argv[5])
        print(res)
        return 0 if res == "ok" else 1
    if len(argv) >= 4 and argv[1] == "probe":
        host, port, rest = argv[2], int(argv[3]), argv[4:]
        source, tls, data, wait = None, None, b"PING\r\n", 1.5
        while rest:
            if rest[0] == "--source":
                source, rest = rest[1], rest[2:]
            elif rest[0] == "--tls":
                tls, rest = (rest[1], rest[2] or None, rest[3] or None), rest[4:]
            elif rest[0] == "--wait":
                wait, rest = float(rest[1]), rest[2:]
            elif rest[0] == "--send":
                data, rest = rest[1].encode().decode("unicode_escape").encode("latin-1"), rest[2:]
            else:
                raise SystemExit("unknown argument %s" % rest[0])
        print(probe(host, port, source, tls, data, wait))
        return 0
    if len(argv) == 4 and argv[1] == "idle":
        print(idle(int(argv[2]), float(argv[3])))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
