// respect's driver for node-redis (the line protocol: conformance/clients/README.md).
//
// One JSON line per case on stdin, one answer line on stdout. Each case is a fresh client:
// no reconnects (`reconnectStrategy: false`), no offline queue, the library's own socket,
// connect and command timeouts set to the case's timeout, and the command sent raw
// (`sendCommand`, no reply transform). The type mapping keeps what node-redis can tell apart:
// `+` and `$` as Buffers (both print as `bulk`: one JS type for both), `=` as VerbatimString
// (its format kept), `~` as a Set, `%` as a Map (any key type). `:` and `,` are both plain JS
// numbers by default (one type for both: an integral double prints as `int`, which the
// grader's ladder takes as NON-STRICT; an integer beyond 2^53 has already lost its digits),
// `(` is a BigInt.
'use strict';
const readline = require('node:readline');
const { createClient, RESP_TYPES } = require('redis');
const errors = require('@redis/client/dist/lib/errors');
const { VerbatimString } = require('@redis/client/dist/lib/RESP/verbatim-string');
const libraryVersion = require('redis/package.json').version;

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

function text(buf) {
  const s = buf.toString('utf8');
  return Buffer.from(s, 'utf8').equals(buf) ? s : { hex: buf.toString('hex') };
}

function canonical(v, depth = 0) {
  if (depth > 60) throw new RangeError('nested too deep');
  if (v === null || v === undefined) return { null: null };
  if (typeof v === 'boolean') return { bool: v };
  // Only `(` decodes to a BigInt.
  if (typeof v === 'bigint') return { bignum: v.toString() };
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return { double: 'nan' };
    if (v === Infinity) return { double: 'inf' };
    if (v === -Infinity) return { double: '-inf' };
    // An integral number inside 64 bits prints as `int` (with its exact digits), anything
    // else as `double` (`,1e300` is integral too).
    if (Number.isSafeInteger(v)) return { int: v };
    if (Number.isInteger(v)) {
      const b = BigInt(v);
      if (b >= I64_MIN && b <= I64_MAX) return { int: b };
    }
    return { double: v };
  }
  if (Buffer.isBuffer(v)) return { bulk: text(v) };
  if (v instanceof VerbatimString) {
    return { verbatim: { format: v.format, text: v.toString() } };
  }
  if (typeof v === 'string') return { bulk: v };
  if (v instanceof Error) return { error: v.message };
  if (Array.isArray(v)) return { array: v.map((x) => canonical(x, depth + 1)) };
  if (v instanceof Set) return { set: [...v].map((x) => canonical(x, depth + 1)) };
  if (v instanceof Map) {
    return { map: [...v].map(([k, x]) => [canonical(k, depth + 1), canonical(x, depth + 1)]) };
  }
  if (typeof v === 'object') {
    return { map: Object.entries(v).map(([k, x]) => [{ bulk: k }, canonical(x, depth + 1)]) };
  }
  return { bulk: String(v) };
}

// JSON with BigInts written as bare integers (JSON.stringify refuses them).
function toJson(answer) {
  return JSON.stringify(answer, (_, x) => (typeof x === 'bigint' ? `\u0000big${x}` : x))
    .replace(/"\\u0000big(-?\d+)"/g, '$1');
}

function errorKind(e) {
  if (e instanceof errors.ErrorReply) return 'server';
  if (e instanceof errors.TimeoutError || e instanceof errors.SocketTimeoutError ||
      e instanceof errors.ConnectionTimeoutError) return 'timeout';
  if (e instanceof errors.SocketClosedUnexpectedlyError || e instanceof errors.ClientClosedError ||
      e instanceof errors.ClientOfflineError || e instanceof errors.DisconnectsClientError ||
      e instanceof errors.ReconnectStrategyError || (e && typeof e.code === 'string')) {
    return 'connection';
  }
  // The decoder throws a plain Error for what it refuses ("Unknown RESP type"); anything
  // else (a TypeError, a RangeError) is not one of the library's own errors.
  if (e && e.constructor === Error) return 'protocol';
  return 'internal';
}

function errorAnswer(e, prefix = '') {
  const kind = errorKind(e);
  const name = e && e.constructor ? e.constructor.name : typeof e;
  const message = kind === 'server' ? e.message : `${prefix}${name}: ${e && e.message}`;
  return { error: { kind, message } };
}

// An exception that escapes the library while a case runs (from an event handler) ends that
// case as an `internal` error instead of killing the driver.
let current = null;
process.on('uncaughtException', (e) => {
  if (current) current({ error: { kind: 'internal', message: `uncaught ${e && e.name}: ${e && e.message}` } });
});
process.on('unhandledRejection', (e) => {
  if (current) current({ error: { kind: 'internal', message: `unhandled rejection ${e && e.name}: ${e && e.message}` } });
});

async function runCase(c) {
  const ms = Math.max(1, Math.round(c.timeout * 1000));
  const client = createClient({
    socket: { host: c.host, port: c.port, connectTimeout: ms, socketTimeout: ms, reconnectStrategy: false },
    RESP: c.protocol,
    disableOfflineQueue: true,
  });
  return new Promise((resolve) => {
    let done = false;
    const finish = (answer) => {
      if (done) return;
      done = true;
      current = null;
      resolve(answer);
      try {
        client.destroy();
      } catch (e) {
        // not open (the connection failed): nothing to close
      }
    };
    current = finish;
    // node-redis reports a reply its decoder refuses only on the client's 'error' event
    // (client/index.js resets the decoder and emits it) and leaves the command pending for
    // good; that event is the library's answer. Socket errors also come here, but they settle
    // the command too, so for those the command's own rejection is awaited.
    client.on('error', (e) => {
      const kind = errorKind(e);
      // A turn later: a command the same chunk already resolved (a reply read wrongly before
      // the decoder gave up on the bytes after it) answers with what it resolved to.
      if (kind === 'protocol' || kind === 'internal') {
        setImmediate(() => finish(errorAnswer(e, "(on the client's 'error' event) ")));
      }
    });
    client.connect().then(() => {
      // Given per command: `sendCommand` merges the options of the client it is called on,
      // and `withTypeMapping`'s proxy does not reach it.
      const typeMapping = {
        [RESP_TYPES.SIMPLE_STRING]: Buffer,
        [RESP_TYPES.BLOB_STRING]: Buffer,
        [RESP_TYPES.VERBATIM_STRING]: VerbatimString,
        [RESP_TYPES.SET]: Set,
        [RESP_TYPES.MAP]: Map,
      };
      return client.sendCommand(c.argv, { typeMapping, timeout: ms });
    }).then(
      (v) => {
        try { finish({ value: canonical(v) }); } catch (e) { finish({ error: { kind: 'internal', message: `driver: ${e.message}` } }); }
      },
      (e) => finish(errorAnswer(e)),
    );
  });
}

async function main() {
  process.stdout.write(JSON.stringify({ driver: 'node-redis', library: `node-redis ${libraryVersion}` }) + '\n');
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const answer = await runCase(JSON.parse(line));
    process.stdout.write(toJson(answer) + '\n');
  }
  process.exit(0);
}

main().catch((e) => { process.stderr.write(`driver: ${e.stack}\n`); process.exit(1); });
