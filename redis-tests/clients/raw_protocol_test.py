#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""raw_protocol_test.py PORT GROUP [OPTIONS]: bad input and exact replies over raw TCP sockets.

GROUP is one of
  protocol   every protocol-error class of Redis 7.0 with its exact text, followed by the
             server closing the connection; ignored empty multibulk counts; unknown-command
             and wrong-arity texts; inline commands
  stall      a client that sends half a request and stalls does not hold up another client,
             stays connected, and its request completes when the rest arrives
  resp3      the RESP3 reply shapes after HELLO 3 (null, map, verbatim string) and HELLO 2
  qbuf       the server was started with client-query-buffer-limit 1mb: a client that sends
             a 2 MB partial bulk is disconnected, another client is unaffected
  auth       the server was started with requirepass (--password P): NOAUTH, WRONGPASS, AUTH,
             and the stricter protocol limits before authentication
  repram     repram's own limits and by-design replies (max-key-size, max-value-size,
             max-ttl, default-ttl, PERSIST refused); --skip REASON prints them as skipped

Each check prints one TAP line "ok - GROUP: NAME" or "not ok - GROUP: NAME" with "#   detail"
lines.  Exit status 1 when a check failed.  Every socket has a time-out, so the script ends by
itself (a few seconds per group)."""
import socket
import sys
import time
import traceback

HOST = '127.0.0.1'
TIMEOUT_S = 5.0
failed = 0


class Conn:
    """A raw connection with a read buffer and a RESP2/RESP3 reply reader."""

    def __init__(self, port, timeout=TIMEOUT_S):
        self.s = socket.create_connection((HOST, port), timeout=timeout)
        self.s.settimeout(timeout)
        self.buf = b''

    def send(self, data):
        self.s.sendall(data)

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass

    def _fill(self):
        chunk = self.s.recv(65536)
        if not chunk:
            raise EOFError('connection closed by the server')
        self.buf += chunk

    def line(self):
        while b'\r\n' not in self.buf:
            self._fill()
        i = self.buf.index(b'\r\n')
        out, self.buf = self.buf[:i], self.buf[i + 2:]
        return out

    def exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def raw_reply(self):
        """Return the raw bytes of one complete reply (any RESP2/RESP3 type)."""
        head = self.line()
        t, rest = head[:1], head[1:]
        out = head + b'\r\n'
        if t in (b'$', b'=', b'!'):
            n = int(rest)
            if n >= 0:
                out += self.exact(n + 2)
        elif t in (b'*', b'~', b'>'):
            for _ in range(max(int(rest), 0)):
                out += self.raw_reply()
        elif t in (b'%', b'|'):
            for _ in range(2 * int(rest)):
                out += self.raw_reply()
        return out

    def reply(self):
        """Return one reply decoded: bytes, int, None, list, dict, or an Err."""
        head = self.line()
        t, rest = head[:1], head[1:]
        if t == b'+':
            return rest
        if t == b'-':
            return Err(rest)
        if t == b':':
            return int(rest)
        if t in (b'$', b'=', b'!'):
            n = int(rest)
            if n < 0:
                return None
            return self.exact(n + 2)[:-2]
        if t in (b'*', b'~', b'>'):
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        if t == b'%':
            return {self.reply(): self.reply() for _ in range(int(rest))}
        if t == b'_':
            return None
        if t == b',':
            return float(rest)
        if t == b'#':
            return rest == b't'
        raise ValueError('unknown reply type byte %r' % t)

    def call(self, *args):
        self.send(encode(*args))
        return self.reply()

    def closed_by_server(self, within_s=TIMEOUT_S):
        """True when the server closes the connection within WITHIN_S (after any pending data)."""
        deadline = time.time() + within_s
        self.s.settimeout(0.2)
        try:
            while time.time() < deadline:
                try:
                    chunk = self.s.recv(65536)
                except socket.timeout:
                    continue
                except (ConnectionResetError, BrokenPipeError):
                    return True
                if not chunk:
                    return True
                self.buf += chunk
            return False
        finally:
            self.s.settimeout(TIMEOUT_S)


class Err(bytes):
    """An error reply (the text after '-')."""


def encode(*args):
    out = [b'*%d\r\n' % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b'$%d\r\n%s\r\n' % (len(a), a))
    return b''.join(out)


def tap(group, name, ok, details=()):
    global failed
    print('%s - %s: %s' % ('ok' if ok else 'not ok', group, name))
    if not ok:
        failed += 1
        for d in details:
            for line in str(d).splitlines():
                print('#   %s' % line)
    sys.stdout.flush()


def check(group, name, fn):
    try:
        res = fn()
        if res is True or res is None:
            tap(group, name, True)
        else:
            tap(group, name, False, [res])
    except Exception:  # pylint: disable=broad-except
        tap(group, name, False, traceback.format_exc().strip().splitlines()[-6:])


def expect_eq(got, want, what='reply'):
    if got != want:
        return '%s %r, want %r' % (what, got[:300] if isinstance(got, bytes) else got, want)
    return True


# ---------------------------------------------------------------------------------------------
def group_protocol(port):
    g = 'protocol'

    def error_then_close(payload, want, trickle=False):
        """Send PAYLOAD (or trickle 1 KiB chunks after it), expect the exact error, then EOF."""
        def run():
            c = Conn(port)
            try:
                c.send(payload)
                if trickle:
                    # keep sending until the server answers and hangs up (at most ~2 MB)
                    c.s.setblocking(False)
                    for _ in range(2048):
                        try:
                            c.s.send(b'A' * 1024)
                        except (BlockingIOError, InterruptedError):
                            time.sleep(0.005)
                        except (BrokenPipeError, ConnectionResetError):
                            break
                        try:
                            chunk = c.s.recv(65536)
                            if not chunk:
                                break
                            c.buf += chunk
                            if b'\r\n' in c.buf:
                                break
                        except (BlockingIOError, InterruptedError):
                            pass
                        except ConnectionResetError:
                            break
                    c.s.setblocking(True)
                    c.s.settimeout(TIMEOUT_S)
                try:
                    got = c.line()
                except (EOFError, ConnectionResetError) as e:
                    return 'no error reply before the close (%s); buffer %r' % (e, c.buf[:100])
                r = expect_eq(got, want)
                if r is not True:
                    return r
                if not c.closed_by_server():
                    return 'the server did not close the connection after the protocol error'
                return True
            finally:
                c.close()
        return run

    check(g, 'invalid multibulk length (*3000000000) then close',
          error_then_close(b'*3000000000\r\n', b'-ERR Protocol error: invalid multibulk length'))
    check(g, 'invalid multibulk length (*abc) then close',
          error_then_close(b'*abc\r\n', b'-ERR Protocol error: invalid multibulk length'))
    check(g, 'invalid bulk length ($-10) then close',
          error_then_close(b'*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n',
                           b'-ERR Protocol error: invalid bulk length'))
    check(g, 'invalid bulk length ($2000000000) then close',
          error_then_close(b'*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n',
                           b'-ERR Protocol error: invalid bulk length'))
    check(g, 'invalid bulk length ($blabla) then close',
          error_then_close(b'*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n',
                           b'-ERR Protocol error: invalid bulk length'))
    check(g, "expected '$', got 'f' then close",
          error_then_close(b'*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n',
                           b"-ERR Protocol error: expected '$', got 'f'"))
    check(g, 'too big inline request (64 KiB without a newline) then close',
          error_then_close(b'SET k ' + b'v' * (70 * 1024),
                           b'-ERR Protocol error: too big inline request'))
    check(g, 'too big inline request (trickled) then close',
          error_then_close(b'\x00', b'-ERR Protocol error: too big inline request', trickle=True))
    check(g, 'too big mbulk count string then close',
          error_then_close(b'*' + b'1' * (70 * 1024),
                           b'-ERR Protocol error: too big mbulk count string'))
    check(g, 'too big bulk count string then close',
          error_then_close(b'*1\r\n$' + b'1' * (70 * 1024),
                           b'-ERR Protocol error: too big bulk count string'))
    check(g, 'unbalanced quotes in an inline request then close',
          error_then_close(b'set """test-key""" test-value\r\nping\r\n',
                           b'-ERR Protocol error: unbalanced quotes in request'))

    def empty_counts():
        c = Conn(port)
        try:
            c.send(b'*-1\r\n*0\r\n*-10\r\n\r\n\n   \r\n*1\r\n$4\r\nPING\r\n')
            return expect_eq(c.line(), b'+PONG')
        finally:
            c.close()
    check(g, '*-1, *0 and blank lines are ignored, then PING works', empty_counts)

    def inline():
        c = Conn(port)
        try:
            c.send(b'  set inline:k "hello world"  \r\nget inline:k\nPING\r\n')
            got = [c.line(), c.line(), c.line(), c.line()]
            return expect_eq(got, [b'+OK', b'$11', b'hello world', b'+PONG'])
        finally:
            c.close()
    check(g, 'inline commands with quotes, \\n and \\r\\n line ends', inline)

    def unknown():
        c = Conn(port)
        try:
            got = [c.call('foobar', 'a', 'b'), c.call('foobar')]
            return expect_eq(got, [
                Err(b"ERR unknown command 'foobar', with args beginning with: 'a' 'b' "),
                Err(b"ERR unknown command 'foobar', with args beginning with: ")])
        finally:
            c.close()
    check(g, 'unknown command text', unknown)

    def arity():
        c = Conn(port)
        try:
            got = [c.call('GET'), c.call('get', 'a', 'b'), c.call('MSET', 'a', '1', 'b'),
                   c.call('PING', 'a', 'b')]
            return expect_eq(got, [
                Err(b"ERR wrong number of arguments for 'get' command"),
                Err(b"ERR wrong number of arguments for 'get' command"),
                Err(b"ERR wrong number of arguments for 'mset' command"),
                Err(b"ERR wrong number of arguments for 'ping' command")])
        finally:
            c.close()
    check(g, 'wrong number of arguments text', arity)

    def after_error_others_fine():
        a, b = Conn(port), Conn(port)
        try:
            a.send(b'*1\r\n$blabla\r\n')
            a.line()
            return expect_eq(b.call('PING'), b'PONG')
        finally:
            a.close()
            b.close()
    check(g, 'a protocol error on one connection leaves the others working', after_error_others_fine)


# ---------------------------------------------------------------------------------------------
def group_stall(port):
    g = 'stall'

    def run():
        a, b = Conn(port), Conn(port)
        try:
            a.send(b'*3\r\n$3\r\nSET\r\n$8\r\nstall:k1\r\n$10\r\nhello')
            t0 = time.time()
            for i in range(200):
                r = b.call('SET', 'stall:b%d' % i, 'v%d' % i)
                if r != b'OK':
                    return 'the other client got %r' % r
                if b.call('GET', 'stall:b%d' % i) != b'v%d' % i:
                    return 'the other client read a wrong value'
            elapsed = time.time() - t0
            if elapsed > 3:
                return '400 commands of the other client took %.1f s' % elapsed
            if b.call('EXISTS', 'stall:k1') != 0:
                return 'the half-sent SET was executed early'
            time.sleep(0.5)
            a.send(b'world\r\n')
            r = a.reply()
            if r != b'OK':
                return 'the stalled request completed with %r' % (r,)
            return expect_eq(b.call('GET', 'stall:k1'), b'helloworld')
        finally:
            a.close()
            b.close()
    check(g, 'a half-sent request does not block other clients and completes later', run)

    def split_everywhere():
        c = Conn(port)
        try:
            req = encode('SET', 'stall:split', 'a\r\nb') + encode('GET', 'stall:split')
            for i in range(len(req)):
                c.send(req[i:i + 1])
                time.sleep(0.001)
            return expect_eq([c.reply(), c.reply()], [b'OK', b'a\r\nb'])
        finally:
            c.close()
    check(g, 'a request sent one byte at a time', split_everywhere)


# ---------------------------------------------------------------------------------------------
def group_resp3(port):
    g = 'resp3'

    def run_hello3():
        c = Conn(port)
        try:
            c.send(encode('HELLO', '3'))
            raw = c.raw_reply()
            if not raw.startswith(b'%'):
                return 'HELLO 3 reply is not a map: %r' % raw[:80]
            c2 = Conn(port)
            try:
                c2.send(encode('HELLO', '3'))
                m = c2.reply()
            finally:
                c2.close()
            for k in (b'server', b'version', b'proto', b'id', b'mode', b'role', b'modules'):
                if k not in m:
                    return 'HELLO 3 map lacks %r: %r' % (k, m)
            return expect_eq(m[b'proto'], 3, 'proto')
        finally:
            c.close()
    check(g, 'HELLO 3 replies with a map (server version proto id mode role modules)', run_hello3)

    def shapes():
        c = Conn(port)
        try:
            c.call('HELLO', '3')
            c.call('DEL', 'r3:k', 'r3:none')
            c.call('SET', 'r3:k', 'v')
            out = []
            for args, want in ((('GET', 'r3:none'), b'_\r\n'),
                               (('MGET', 'r3:k', 'r3:none'), b'*2\r\n$1\r\nv\r\n_\r\n'),
                               (('SET', 'r3:k', 'w', 'NX'), b'_\r\n'),
                               (('CLIENT', 'GETNAME'), b'_\r\n'),
                               (('CONFIG', 'GET', 'maxclients'), None),
                               (('INCRBYFLOAT', 'r3:f', '1.5'), b'$3\r\n1.5\r\n'),
                               (('EXISTS', 'r3:k'), b':1\r\n')):
                c.send(encode(*args))
                raw = c.raw_reply()
                if want is None:
                    if not raw.startswith(b'%1\r\n$10\r\nmaxclients\r\n$'):
                        out.append('%s: %r is not a one-entry map' % (' '.join(args), raw))
                elif raw != want:
                    out.append('%s: %r, want %r' % (' '.join(args), raw, want))
            c.send(encode('INFO', 'server'))
            raw = c.raw_reply()
            if not (raw.startswith(b'=') and b'\r\ntxt:' in raw[:20] and b'redis_version:' in raw):
                out.append('INFO server: %r is not a verbatim txt string' % raw[:40])
            return '; '.join(out) if out else True
        finally:
            c.close()
    check(g, 'null (_), map (%), verbatim (=) and plain replies after HELLO 3', shapes)

    def hello2():
        c = Conn(port)
        try:
            c.call('HELLO', '3')
            c.send(encode('HELLO', '2'))
            raw = c.raw_reply()
            if not raw.startswith(b'*14\r\n'):
                return 'HELLO 2 reply %r is not a flat array of 14' % raw[:40]
            c.send(encode('GET', 'r3:none'))
            return expect_eq(c.raw_reply(), b'$-1\r\n', 'GET of a missing key after HELLO 2')
        finally:
            c.close()
    check(g, 'HELLO 2 switches back to RESP2 (flat array of 14, $-1 nulls)', hello2)

    def errors():
        c = Conn(port)
        try:
            got = [c.call('HELLO', '4'), c.call('HELLO', 'abc'), c.call('HELLO', '3', 'FOO')]
            return expect_eq(got, [
                Err(b'NOPROTO unsupported protocol version'),
                Err(b'ERR Protocol version is not an integer or out of range'),
                Err(b"ERR Syntax error in HELLO option 'FOO'")])
        finally:
            c.close()
    check(g, 'HELLO errors (NOPROTO, not an integer, bad option)', errors)


# ---------------------------------------------------------------------------------------------
def group_qbuf(port):
    g = 'qbuf'

    def run():
        a, b = Conn(port), Conn(port)
        try:
            if b.call('PING') != b'PONG':
                return 'the other client does not work before the test'
            a.send(b'*3\r\n$3\r\nSET\r\n$7\r\nqbuf:k1\r\n$3000000\r\n')
            sent, closed = 0, False
            chunk = b'x' * 65536
            a.s.settimeout(2.0)
            try:
                while sent < 2 * 1024 * 1024:
                    a.s.sendall(chunk)
                    sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError, socket.timeout):
                closed = True
            a.s.settimeout(TIMEOUT_S)
            if not closed and not a.closed_by_server(5.0):
                return 'the connection stayed open after %d bytes of a partial bulk' % sent
            if a.buf:
                return 'the server replied %r before closing (want no reply)' % a.buf[:100]
            if b.call('PING') != b'PONG':
                return 'the other client stopped working'
            return expect_eq(b.call('EXISTS', 'qbuf:k1'), 0, 'EXISTS of the partial key')
        finally:
            a.close()
            b.close()
    check(g, 'a 2 MB partial bulk over client-query-buffer-limit 1mb closes that client only', run)


# ---------------------------------------------------------------------------------------------
def group_auth(port, password):
    g = 'auth'

    def run():
        c = Conn(port)
        try:
            got = [c.call('GET', 'a'), c.call('AUTH', 'wrong'), c.call('AUTH', 'default', 'wrong'),
                   c.call('AUTH'), c.call('AUTH', password), c.call('PING')]
            return expect_eq(got, [
                Err(b'NOAUTH Authentication required.'),
                Err(b'WRONGPASS invalid username-password pair or user is disabled.'),
                Err(b'WRONGPASS invalid username-password pair or user is disabled.'),
                Err(b"ERR wrong number of arguments for 'auth' command"),
                b'OK', b'PONG'])
        finally:
            c.close()
    check(g, 'NOAUTH before AUTH, WRONGPASS, then AUTH and PING', run)

    def hello_auth():
        c = Conn(port)
        try:
            r = c.call('HELLO', '3')
            if not (isinstance(r, Err) and r.startswith(b'NOAUTH HELLO must be called')):
                return 'HELLO 3 before AUTH: %r' % (r,)
            m = c.call('HELLO', '3', 'AUTH', 'default', password)
            if not isinstance(m, dict) or m.get(b'proto') != 3:
                return 'HELLO 3 AUTH default PW: %r' % (m,)
            return expect_eq(c.call('PING'), b'PONG')
        finally:
            c.close()
    check(g, 'HELLO 3 needs AUTH, HELLO 3 AUTH default PASSWORD works', hello_auth)

    def limits(payload, want):
        def run_limit():
            c = Conn(port)
            try:
                c.send(payload)
                r = expect_eq(c.line(), want)
                if r is not True:
                    return r
                return True if c.closed_by_server() else 'not closed after the error'
            finally:
                c.close()
        return run_limit
    check(g, 'unauthenticated multibulk length (*100) then close',
          limits(b'*100\r\n', b'-ERR Protocol error: unauthenticated multibulk length'))
    check(g, 'unauthenticated bulk length ($100000000) then close',
          limits(b'*1\r\n$100000000\r\n', b'-ERR Protocol error: unauthenticated bulk length'))


# ---------------------------------------------------------------------------------------------
def group_repram(port, skip_reason):
    g = 'repram'
    checks = []

    def add(name):
        def deco(fn):
            checks.append((name, fn))
            return fn
        return deco

    @add('key longer than max-key-size (512 bytes) is refused')
    def _():
        c = Conn(port)
        try:
            got = [c.call('SET', 'k' * 512, 'v'), c.call('SET', 'k' * 513, 'v'),
                   c.call('EXISTS', 'k' * 512)]
            return expect_eq(got, [b'OK', Err(b'ERR key exceeds max-key-size (512 bytes)'), 1])
        finally:
            c.close()

    @add('value larger than max-value-size (10 MiB) is refused, also by APPEND/SETRANGE growth')
    def _():
        want = Err(b'ERR value exceeds max-value-size (10485760 bytes)')
        c = Conn(port, timeout=15)
        try:
            # the server may answer as soon as it sees the length, and may close afterwards
            try:
                c.send(encode('SET', 'big', b'x' * (10 * 1024 * 1024 + 1)))
            except (BrokenPipeError, ConnectionResetError):
                pass
            first = c.reply()
        finally:
            c.close()
        c = Conn(port, timeout=15)
        try:
            got = [first, c.call('SET', 'big', b'x' * (10 * 1024 * 1024)),
                   c.call('APPEND', 'big', 'y'), c.call('SETRANGE', 'small', 10 * 1024 * 1024, 'y'),
                   c.call('STRLEN', 'big')]
            return expect_eq(got, [want, b'OK', want, want, 10 * 1024 * 1024])
        finally:
            c.close()

    @add('TTL above max-ttl (604800 s) is refused')
    def _():
        c = Conn(port)
        try:
            c.call('SET', 'ttl:k', 'v')
            got = [c.call('SET', 'ttl:k', 'v', 'EX', '604801'),
                   c.call('SETEX', 'ttl:k', '604801', 'v'),
                   c.call('EXPIRE', 'ttl:k', '604801'),
                   c.call('PEXPIRE', 'ttl:k', '604800001'),
                   c.call('SET', 'ttl:k', 'v', 'EX', '604800')]

            def e(cmd):
                return Err(b"ERR expire time exceeds max-ttl (604800 seconds) in '%s' command" % cmd)
            return expect_eq(got, [e(b'set'), e(b'setex'), e(b'expire'), e(b'pexpire'), b'OK'])
        finally:
            c.close()

    @add('a write without TTL gets default-ttl (3600 s), TTL is never -1')
    def _():
        c = Conn(port)
        try:
            c.call('SET', 'dt:k', 'v')
            ttl = c.call('TTL', 'dt:k')
            c.call('MSET', 'dt:m', 'v')
            ttl2 = c.call('TTL', 'dt:m')
            if not (isinstance(ttl, int) and 3590 <= ttl <= 3600):
                return 'TTL after SET without EX: %r' % (ttl,)
            if not (isinstance(ttl2, int) and 3590 <= ttl2 <= 3600):
                return 'TTL after MSET: %r' % (ttl2,)
            return True
        finally:
            c.close()

    @add('PERSIST and GETEX PERSIST are refused')
    def _():
        c = Conn(port)
        try:
            c.call('SET', 'p:k', 'v', 'EX', '100')
            want = Err(b'ERR keys cannot be made persistent: every key has a time to live')
            return expect_eq([c.call('PERSIST', 'p:k'), c.call('GETEX', 'p:k', 'PERSIST')],
                             [want, want])
        finally:
            c.close()

    @add('INFO reports redis_version:7.0.15 and mem_allocator:libc')
    def _():
        c = Conn(port)
        try:
            info = c.call('INFO', 'server', 'memory')
            missing = [f for f in (b'redis_version:7.0.15', b'mem_allocator:libc') if f not in info]
            return 'INFO lacks %r' % missing if missing else True
        finally:
            c.close()

    @add('one database: SELECT 0 works, SELECT 1 is out of range')
    def _():
        c = Conn(port)
        try:
            return expect_eq([c.call('SELECT', '0'), c.call('SELECT', '1')],
                             [b'OK', Err(b'ERR DB index is out of range')])
        finally:
            c.close()

    for name, fn in checks:
        if skip_reason:
            print('ok - %s: %s # SKIP %s' % (g, name, skip_reason))
        else:
            check(g, name, fn)


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    port, group = int(args[0]), args[1]
    opts = dict(zip(args[2::2], args[3::2]))
    if group == 'protocol':
        group_protocol(port)
    elif group == 'stall':
        group_stall(port)
    elif group == 'resp3':
        group_resp3(port)
    elif group == 'qbuf':
        group_qbuf(port)
    elif group == 'auth':
        group_auth(port, opts.get('--password', 'secret'))
    elif group == 'repram':
        group_repram(port, opts.get('--skip', ''))
    else:
        sys.exit('unknown group %s' % group)
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
