// SPDX-License-Identifier: BSD-3-Clause
// node-redis-test.js PORT: node-redis (npm "redis", the version pinned in package.json) with its
// default options against 127.0.0.1:PORT.  node-redis 6 opens with HELLO 3 (it has no RESP2
// fallback), CLIENT SETINFO and CLIENT MAINT_NOTIFICATIONS (whose error it ignores).  Prints TAP
// lines; exits non-zero when a check failed.  SERVER_IS_REDIS=1 skips the checks that Redis 7.0
// itself cannot pass.
'use strict';

const { create, clientInfo } = require('./tap');
const { createClient } = require('redis');

const port = Number(process.argv[2]);
const isRedis = process.env.SERVER_IS_REDIS === '1';
const t = create('node-redis', 30000);
const { assert } = t;

async function main() {
  const version = require('redis/package.json').version;
  console.log(`# redis ${version}`);
  const errors = [];
  const c = createClient({ socket: { host: '127.0.0.1', port } });
  c.on('error', (e) => errors.push(e));

  const connected = await t.check('HELLO 3 connect and SET/GET', async () => {
    await c.connect();
    assert.strictEqual(await c.set('nr:k', 'hello'), 'OK');
    assert.strictEqual(await c.get('nr:k'), 'hello');
    const info = clientInfo(await c.sendCommand(['CLIENT', 'INFO']));
    assert.strictEqual(info.resp, '3', `CLIENT INFO says resp=${info.resp}`);
  });
  if (!connected) {
    for (const e of errors.slice(0, 3)) console.log(`#   client error: ${e.message}`);
    try { c.destroy(); } catch (e) { /* not connected */ }
    return;
  }

  if (isRedis) {
    t.skip('CLIENT SETINFO lib-name shows in CLIENT INFO', 'Redis 7.0 has no CLIENT SETINFO');
  } else {
    await t.check('CLIENT SETINFO lib-name shows in CLIENT INFO', async () => {
      const info = clientInfo(await c.sendCommand(['CLIENT', 'INFO']));
      assert.match(info['lib-name'] || '', /^node-redis/);
    });
  }

  await t.check('SET with EX and TTL', async () => {
    assert.strictEqual(await c.set('nr:ex', 'v', { expiration: { type: 'EX', value: 100 } }), 'OK');
    const ttl = await c.ttl('nr:ex');
    assert.ok(ttl > 95 && ttl <= 100, `ttl ${ttl}`);
    assert.strictEqual(await c.ttl('nr:none'), -2);
  });

  await t.check('SET NX and GET of a missing key is null', async () => {
    await c.del('nr:nx');
    assert.strictEqual(await c.set('nr:nx', 'a', { condition: 'NX' }), 'OK');
    assert.strictEqual(await c.set('nr:nx', 'b', { condition: 'NX' }), null);
    assert.strictEqual(await c.get('nr:missing'), null);
  });

  await t.check('MGET with a missing key', async () => {
    await c.mSet({ 'nr:m1': 'one', 'nr:m2': 'two' });
    assert.deepStrictEqual(await c.mGet(['nr:m1', 'nr:nope', 'nr:m2']), ['one', null, 'two']);
  });

  await t.check('INCR and INCRBY', async () => {
    await c.del('nr:n');
    assert.strictEqual(await c.incr('nr:n'), 1);
    assert.strictEqual(await c.incrBy('nr:n', 41), 42);
  });

  await t.check('multi/exec', async () => {
    await c.del('nr:tx');
    const res = await c.multi().set('nr:tx', '1').incr('nr:tx').get('nr:tx').exec();
    assert.deepStrictEqual(res, ['OK', 2, '2']);
  });

  await t.check('pipeline (multi().execAsPipeline) of 1000 commands keeps order', async () => {
    const m = c.multi();
    for (let i = 0; i < 500; i++) {
      m.set(`nr:p:${i}`, `v${i}`, { expiration: { type: 'EX', value: 60 } });
      m.get(`nr:p:${i}`);
    }
    const res = await m.execAsPipeline();
    assert.strictEqual(res.length, 1000);
    for (let i = 0; i < 500; i++) {
      assert.strictEqual(res[2 * i], 'OK');
      assert.strictEqual(res[2 * i + 1], `v${i}`);
    }
  });

  await t.check('auto-pipelined concurrent commands', async () => {
    const ps = [];
    for (let i = 0; i < 200; i++) ps.push(c.incr('nr:auto'));
    const res = await Promise.all(ps);
    assert.strictEqual(res[199] - res[0], 199);
  });

  await t.check('scanIterator with MATCH finds every key', async () => {
    const keys = new Set();
    for await (const batch of c.scanIterator({ MATCH: 'nr:p:*', COUNT: 50 })) {
      for (const k of batch) keys.add(k);
    }
    assert.strictEqual(keys.size, 500);
  });

  await t.check('error reply: unknown command text', async () => {
    await assert.rejects(c.sendCommand(['FOOBAR', 'a', 'b']), (e) => {
      assert.strictEqual(e.message, "ERR unknown command 'FOOBAR', with args beginning with: 'a' 'b' ");
      return true;
    });
  });

  await t.check('error reply: wrong arity', async () => {
    await assert.rejects(c.sendCommand(['GET']), /ERR wrong number of arguments for 'get' command/);
  });

  await t.check('CONFIG GET returns a map', async () => {
    const res = await c.configGet('maxclients');
    assert.ok(res && typeof res === 'object' && 'maxclients' in res, JSON.stringify(res));
  });

  await t.check('quit', async () => {
    // QUIT is deprecated in node-redis 6 but still sent as QUIT; close() is the modern form.
    const q = await c.sendCommand(['QUIT']);
    assert.strictEqual(q, 'OK');
    try { c.destroy(); } catch (e) { /* already closed */ }
  });
}

main().catch((e) => t.fail('unexpected exception', e)).finally(() => t.done());
