#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""python_redis_test.py PORT: python3-redis (Debian's 4.3.4, RESP2 only) against 127.0.0.1:PORT.

Prints one TAP line per check ("ok - python-redis: NAME" / "not ok - ..." with "#   detail"
lines) and exits 1 when a check failed.  Run it with /usr/bin/python3: the Debian package is
installed for that interpreter only.  Every socket operation has a time-out, so it ends by
itself."""
import sys
import time
import traceback

try:
    import redis
except ImportError as e:  # reported as one failing line by the suite's caller
    print('not ok - python-redis: import redis (%s; run with /usr/bin/python3)' % e)
    sys.exit(1)

PREFIX = 'python-redis'
failed = 0


def check(name):
    """Decorator: run the function now, print its TAP line."""
    def run(fn):
        global failed
        try:
            fn()
            print('ok - %s: %s' % (PREFIX, name))
        except Exception:  # pylint: disable=broad-except
            failed += 1
            print('not ok - %s: %s' % (PREFIX, name))
            for line in traceback.format_exc().strip().splitlines()[-8:]:
                print('#   %s' % line)
        return fn
    return run


def eq(got, want):
    if got != want:
        raise AssertionError('got %r, want %r' % (got, want))


def main():
    port = int(sys.argv[1])
    print('# redis-py %s' % redis.__version__)
    r = redis.Redis(host='127.0.0.1', port=port, socket_timeout=10, socket_connect_timeout=5)
    rb = redis.Redis(host='127.0.0.1', port=port, socket_timeout=10, decode_responses=False)
    rd = redis.Redis(host='127.0.0.1', port=port, socket_timeout=10, decode_responses=True)

    @check('ping')
    def _():
        eq(r.ping(), True)
        eq(rd.echo('hello'), 'hello')

    @check('set/get binary-safe values')
    def _():
        value = bytes(range(256)) * 4 + b'\r\n\x00'
        eq(rb.set(b'py:bin\x00key', value), True)
        eq(rb.get(b'py:bin\x00key'), value)
        eq(rb.get('py:missing'), None)

    @check('set ex/px and ttl/pttl')
    def _():
        eq(r.set('py:ex', 'v', ex=100), True)
        ttl = r.ttl('py:ex')
        assert 95 < ttl <= 100, ttl
        eq(r.set('py:px', 'v', px=50000), True)
        pttl = r.pttl('py:px')
        assert 45000 < pttl <= 50000, pttl
        eq(r.ttl('py:none'), -2)

    @check('set nx/xx')
    def _():
        r.delete('py:nx')
        eq(r.set('py:nx', 'a', nx=True), True)
        eq(r.set('py:nx', 'b', nx=True), None)
        eq(r.set('py:nx', 'c', xx=True), True)
        eq(r.set('py:nx-absent', 'c', xx=True), None)
        eq(rd.get('py:nx'), 'c')

    @check('mset/mget')
    def _():
        eq(r.mset({'py:m1': 'one', 'py:m2': 'two'}), True)
        eq(rd.mget(['py:m1', 'py:nope', 'py:m2']), ['one', None, 'two'])

    @check('expire/ttl and expiry')
    def _():
        r.set('py:e', 'v')
        eq(r.expire('py:e', 50), True)
        ttl = r.ttl('py:e')
        assert 45 < ttl <= 50, ttl
        eq(r.pexpire('py:e', 200), True)
        time.sleep(0.5)
        eq(r.get('py:e'), None)
        eq(r.exists('py:e'), 0)
        eq(r.expire('py:never', 10), False)

    @check('incr/incrby/decr/incrbyfloat')
    def _():
        r.delete('py:n')
        eq(r.incr('py:n'), 1)
        eq(r.incrby('py:n', 9), 10)
        eq(r.decr('py:n'), 9)
        eq(r.incrbyfloat('py:n', 0.5), 9.5)

    @check('scan_iter with match and count')
    def _():
        for i in range(300):
            r.set('py:scan:%d' % i, i, ex=60)
        keys = set(rd.scan_iter(match='py:scan:*', count=25))
        eq(len(keys), 300)
        eq(sorted(rd.keys('py:scan:1?'))[:2], ['py:scan:10', 'py:scan:11'])

    @check('pipeline() default wraps MULTI/EXEC')
    def _():
        r.delete('py:tx')
        p = r.pipeline()
        p.set('py:tx', 1).incr('py:tx').get('py:tx')
        eq(p.execute(), [True, 2, b'2'])

    @check('pipeline(transaction=False) of 1000 commands')
    def _():
        p = r.pipeline(transaction=False)
        for i in range(500):
            p.set('py:p:%d' % i, 'v%d' % i, ex=60)
            p.get('py:p:%d' % i)
        res = p.execute()
        eq(len(res), 1000)
        eq(res[0], True)
        eq(res[999], b'v499')

    @check('transaction with WATCH retries on a concurrent change')
    def _():
        r.set('py:w', 1)
        attempts = []

        def body(pipe):
            attempts.append(1)
            v = int(pipe.get('py:w'))
            if len(attempts) == 1:
                r.set('py:w', 100)  # another writer sneaks in
            pipe.multi()
            pipe.set('py:w', v + 1)
        r.transaction(body, 'py:w')
        eq(len(attempts), 2)
        eq(rd.get('py:w'), '101')

    @check('client_setname/client_getname/client_id')
    def _():
        # the three share one connection: a pool without concurrent use hands out the same one
        eq(rd.client_setname('py-client'), True)
        eq(rd.client_getname(), 'py-client')
        assert isinstance(rd.client_id(), int)
        assert any(c.get('name') == 'py-client' for c in rd.client_list())

    @check('info parsing')
    def _():
        info = r.info()
        assert 'redis_version' in info, sorted(info)[:10]
        assert isinstance(info['connected_clients'], int)
        eq(info.get('loading'), 0)
        ks = r.info('keyspace')
        assert 'db0' in ks and ks['db0']['keys'] > 0, ks

    @check('errors are mapped to ResponseError')
    def _():
        try:
            r.execute_command('FOOBAR', 'a', 'b')
            raise AssertionError('no error')
        except redis.exceptions.ResponseError as e:
            eq(str(e), "unknown command 'FOOBAR', with args beginning with: 'a' 'b' ")
        try:
            r.execute_command('GET')
            raise AssertionError('no error')
        except redis.exceptions.ResponseError as e:
            eq(str(e), "wrong number of arguments for 'get' command")
        r.set('py:s', 'abc')
        try:
            r.incr('py:s')
            raise AssertionError('no error')
        except redis.exceptions.ResponseError as e:
            eq(str(e), 'value is not an integer or out of range')

    @check('getex/getdel/getset/append/strlen/getrange/setrange')
    def _():
        r.set('py:g', 'hello')
        eq(rd.getex('py:g', ex=30), 'hello')
        assert 25 < r.ttl('py:g') <= 30
        eq(r.append('py:g', ' world'), 11)
        eq(r.strlen('py:g'), 11)
        eq(rd.getrange('py:g', 0, 4), 'hello')
        eq(r.setrange('py:g', 6, 'W'), 11)
        eq(rd.getset('py:g', 'x'), 'hello World')
        eq(rd.getdel('py:g'), 'x')
        eq(r.exists('py:g'), 0)

    @check('rename/copy/type/dbsize/flushdb')
    def _():
        r.set('py:a', '1', ex=100)
        eq(r.rename('py:a', 'py:b'), True)
        eq(r.copy('py:b', 'py:c'), True)
        eq(rd.type('py:c'), 'string')
        assert r.ttl('py:c') > 90
        assert r.dbsize() > 0
        eq(r.flushdb(), True)
        eq(r.dbsize(), 0)

    for c in (r, rb, rd):
        c.close()


if __name__ == '__main__':
    try:
        main()
    except Exception:  # pylint: disable=broad-except
        failed += 1
        print('not ok - %s: unexpected exception' % PREFIX)
        for line in traceback.format_exc().strip().splitlines()[-8:]:
            print('#   %s' % line)
    sys.exit(1 if failed else 0)
