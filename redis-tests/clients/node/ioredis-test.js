// SPDX-License-Identifier: BSD-3-Clause
// ioredis-test.js PORT: ioredis (the version pinned in package.json) with its default options
// against 127.0.0.1:PORT.  With default options ioredis 6 opens with HELLO 3 and CLIENT SETINFO
// and runs its INFO ready check.  Prints TAP lines; exits non-zero when a check failed.
// SERVER_IS_REDIS=1 skips the checks that Redis 7.0 itself cannot pass.
'use strict';

const { create, clientInfo } = require('./tap');
const Redis = require('ioredis');

const port = Number(process.argv[2]);
const isRedis = process.env.SERVER_IS_REDIS === '1';
const t = create('ioredis', 30000);
const { assert } = t;

async function main() {
  const version = require('ioredis/package.json').version;
  console.log(`# ioredis ${version}`);
  const r = new Redis({ host: '127.0.0.1', port });
  let errors = [];
  r.on('error', (e) => errors.push(e));

  const connected = await t.check('HELLO 3 connect and SET/GET', async () => {
    await new Promise((resolve, reject) => {
      if (r.status === 'ready') return resolve();
      r.once('ready', resolve);
      r.once('error', reject);
    });
    assert.strictEqual(await r.set('io:k', 'hello'), 'OK');
    assert.strictEqual(await r.get('io:k'), 'hello');
    const info = clientInfo(await r.client('INFO'));
    assert.strictEqual(info.resp, '3', `CLIENT INFO says resp=${info.resp}`);
  });
  if (!connected) {
    r.disconnect();
    for (const e of errors.slice(0, 3)) console.log(`#   client error: ${e.message}`);
    return;
  }

  if (isRedis) {
    t.skip('CLIENT SETINFO lib-name shows in CLIENT INFO', 'Redis 7.0 has no CLIENT SETINFO');
  } else {
    await t.check('CLIENT SETINFO lib-name shows in CLIENT INFO', async () => {
      const info = clientInfo(await r.client('INFO'));
      assert.strictEqual(info['lib-name'], 'ioredis');
      assert.strictEqual(info['lib-ver'], require('ioredis/package.json').version);
    });
  }

  await t.check('SET EX and TTL', async () => {
    assert.strictEqual(await r.set('io:ex', 'v', 'EX', 100), 'OK');
    const ttl = await r.ttl('io:ex');
    assert.ok(ttl > 95 && ttl <= 100, `ttl ${ttl}`);
    const pttl = await r.pttl('io:ex');
    assert.ok(pttl > 95000 && pttl <= 100000, `pttl ${pttl}`);
    assert.strictEqual(await r.ttl('io:none'), -2);
  });

  await t.check('SET PX NX and GET of a missing key is null', async () => {
    assert.strictEqual(await r.set('io:nx', 'a', 'PX', 5000, 'NX'), 'OK');
    assert.strictEqual(await r.set('io:nx', 'b', 'PX', 5000, 'NX'), null);
    assert.strictEqual(await r.get('io:nx'), 'a');
    assert.strictEqual(await r.get('io:missing'), null);
  });

  await t.check('MGET with a missing key', async () => {
    await r.mset('io:m1', 'one', 'io:m2', 'two');
    assert.deepStrictEqual(await r.mget('io:m1', 'io:nope', 'io:m2'), ['one', null, 'two']);
  });

  await t.check('INCR, INCRBY, INCRBYFLOAT', async () => {
    await r.del('io:n');
    assert.strictEqual(await r.incr('io:n'), 1);
    assert.strictEqual(await r.incrby('io:n', 41), 42);
    assert.strictEqual(await r.incrbyfloat('io:n', '0.5'), '42.5');
  });

  await t.check('binary-safe values (Buffer)', async () => {
    const buf = Buffer.from([0, 1, 2, 13, 10, 255, 0, 36, 42]);
    await r.set('io:bin', buf);
    assert.ok(buf.equals(await r.getBuffer('io:bin')));
  });

  await t.check('multi/exec', async () => {
    await r.del('io:tx');
    const res = await r.multi().set('io:tx', '1').incr('io:tx').get('io:tx').exec();
    assert.deepStrictEqual(res, [[null, 'OK'], [null, 2], [null, '2']]);
  });

  await t.check('multi/exec aborted by a queueing error (EXECABORT)', async () => {
    let err = null;
    try {
      await r.multi().set('io:tx2', '1').call('foobar').exec();
    } catch (e) {
      err = e;
    }
    assert.ok(err, 'exec did not fail');
    assert.match(String(err.message), /EXECABORT/);
    assert.strictEqual(await r.exists('io:tx2'), 0);
  });

  await t.check('WATCH makes EXEC fail when the key changed', async () => {
    const other = new Redis({ host: '127.0.0.1', port });
    try {
      await r.set('io:w', '1');
      await r.watch('io:w');
      await other.set('io:w', '2');
      const res = await r.multi().set('io:w', '3').exec();
      assert.strictEqual(res, null);
      assert.strictEqual(await r.get('io:w'), '2');
    } finally {
      other.disconnect();
    }
  });

  await t.check('pipeline of 1000 commands keeps order', async () => {
    const p = r.pipeline();
    for (let i = 0; i < 500; i++) {
      p.set(`io:p:${i}`, `v${i}`, 'EX', 60);
      p.get(`io:p:${i}`);
    }
    const res = await p.exec();
    assert.strictEqual(res.length, 1000);
    for (let i = 0; i < 500; i++) {
      assert.deepStrictEqual(res[2 * i], [null, 'OK']);
      assert.deepStrictEqual(res[2 * i + 1], [null, `v${i}`]);
    }
  });

  await t.check('scanStream with MATCH finds every key', async () => {
    const keys = new Set();
    await new Promise((resolve, reject) => {
      const s = r.scanStream({ match: 'io:p:*', count: 50 });
      s.on('data', (batch) => batch.forEach((k) => keys.add(k)));
      s.on('end', resolve);
      s.on('error', reject);
    });
    assert.strictEqual(keys.size, 500);
  });

  await t.check('error reply: unknown command text', async () => {
    await assert.rejects(r.call('foobar', 'a', 'b'), (e) => {
      assert.strictEqual(e.name, 'ReplyError');
      assert.strictEqual(e.message, "ERR unknown command 'foobar', with args beginning with: 'a' 'b' ");
      return true;
    });
  });

  await t.check('error replies: wrong arity, not an integer', async () => {
    await assert.rejects(r.call('get'), /ERR wrong number of arguments for 'get' command/);
    await r.set('io:str', 'abc');
    await assert.rejects(r.incr('io:str'), /ERR value is not an integer or out of range/);
  });

  await t.check('CONFIG GET returns a map', async () => {
    const res = await r.config('GET', 'maxclients');
    // ioredis flattens a RESP3 map into [name, value]
    assert.deepStrictEqual(res.length, 2);
    assert.strictEqual(res[0], 'maxclients');
  });

  await t.check('quit', async () => {
    const ended = new Promise((resolve) => r.once('end', resolve));
    assert.strictEqual(await r.quit(), 'OK');
    await ended;
  });
}

main().catch((e) => t.fail('unexpected exception', e)).finally(() => t.done());
