// SPDX-License-Identifier: BSD-3-Clause
// tap.js: the few helpers the node client tests share.  Every check prints one TAP line
// ("ok - PREFIX: NAME" / "not ok - PREFIX: NAME" followed by "#   detail" lines); a hard timer
// ends the process, so a client stuck in a reconnect loop cannot hang the suite.
'use strict';

const assert = require('assert');

function create(prefix, hardLimitMs) {
  let failed = 0;
  const timer = setTimeout(() => {
    console.log(`not ok - ${prefix}: finished within ${hardLimitMs} ms`);
    process.exit(1);
  }, hardLimitMs);

  function ok(name) { console.log(`ok - ${prefix}: ${name}`); }
  function fail(name, err) {
    failed++;
    console.log(`not ok - ${prefix}: ${name}`);
    const text = err && err.stack ? err.stack : String(err);
    for (const line of text.split('\n').slice(0, 8)) console.log(`#   ${line}`);
  }
  function skip(name, reason) { console.log(`ok - ${prefix}: ${name} # SKIP ${reason}`); }

  // check(name, async fn, ms): run fn with a time limit; a throw or a timeout is "not ok".
  async function check(name, fn, ms = 5000) {
    let t;
    const limit = new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    });
    try {
      await Promise.race([fn(), limit]);
      ok(name);
      return true;
    } catch (err) {
      fail(name, err);
      return false;
    } finally {
      clearTimeout(t);
    }
  }

  function done() {
    clearTimeout(timer);
    process.exit(failed ? 1 : 0);
  }

  return { ok, fail, skip, check, done, assert };
}

// Parse "field=value field=value" (CLIENT INFO) into an object.
function clientInfo(text) {
  const out = {};
  for (const kv of String(text).trim().split(' ')) {
    const i = kv.indexOf('=');
    if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

module.exports = { create, clientInfo };
