// respect's driver for ioredis (the line protocol: conformance/clients/README.md).
//
// ioredis 6 speaks RESP3 (its decoder is node-redis's, vendored in `built/resp/`), so both
// protocols are graded. Each case is a fresh connection with no retries, no reconnect, no
// offline queue, no resend, no ready check (it would send INFO), the library's connect and
// command timeouts set to the case's timeout, and the command sent as a raw `Command` whose
// reply is left as Buffers (`replyEncoding: null`) and whose per-command reply transformer is
// turned off. ioredis has no user type mapping, only two presets (`replyMapping`):
// - RESP2 connections use `legacy` (the only one allowed there; it flattens RESP3 types
//   into RESP2 shapes if a server sends them anyway);
// - RESP3 connections use `resp3`: `+`, `$` and `=` are all Buffers (printed as `bulk`; the
//   verbatim format is dropped), `~` is an Array (printed as an array; the grader's ladder
//   takes a set as a list), `%` is a plain object whose keys are strings (a key of another
//   type has been turned into text by the library and prints as that text), `:` and `,` are
//   both JS numbers (an integral double prints as `int`, NON-STRICT), `(` is a string (printed
//   as `bulk`).
'use strict';
const readline = require('node:readline');
const Redis = require('ioredis');
const { Command } = Redis;
const { ReplyError } = require('ioredis');
const { MaxRetriesPerRequestError } = require('ioredis/built/errors');
const libraryVersion = require('ioredis/package.json').version;

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
  if (e instanceof ReplyError) return 'server';
  const message = (e && e.message) || '';
  if (message === 'Command timed out' || (e && e.code === 'ETIMEDOUT')) return 'timeout';
  if ((e && typeof e.code === 'string') || e instanceof MaxRetriesPerRequestError ||
      message.startsWith('Connection is closed') || message.startsWith("Stream isn't writeable")) {
    return 'connection';
  }
  // The decoder throws a plain Error for what it refuses ("Unknown RESP type"); ioredis
  // appends ". Please report this." and fails the pending commands with it.
  if (e && e.constructor === Error) return 'protocol';
  return 'internal';
}

function errorAnswer(e) {
  const kind = errorKind(e);
  const name = e && e.constructor ? e.constructor.name : typeof e;
  const message = kind === 'server' ? e.message : `${name}: ${e && e.message}`;
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
  const redis = new Redis({
    host: c.host,
    port: c.port,
    protocol: c.protocol,
    replyMapping: c.protocol === 3 ? 'resp3' : 'legacy',
    lazyConnect: true,
    connectTimeout: ms,
    commandTimeout: ms,
    retryStrategy: () => null,
    reconnectOnError: () => false,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
  });
  // Errors also reach the pending command; the event only needs a listener.
  redis.on('error', () => {});
  return new Promise((resolve) => {
    let done = false;
    const finish = (answer) => {
      if (done) return;
      done = true;
      current = null;
      resolve(answer);
      try {
        redis.disconnect(false);
      } catch (e) {
        // already closed
      }
    };
    current = finish;
    redis.connect().then(() => {
      const [name, ...args] = c.argv;
      const command = new Command(name.toLowerCase(), args, { replyEncoding: null });
      command.transformReply = (reply) => reply; // no per-command reply transformer
      return redis.sendCommand(command);
    }).then(
      (v) => {
        try { finish({ value: canonical(v) }); } catch (e) { finish({ error: { kind: 'internal', message: `driver: ${e.message}` } }); }
      },
      (e) => finish(errorAnswer(e)),
    );
  });
}

async function main() {
  process.stdout.write(JSON.stringify({ driver: 'ioredis', library: `ioredis ${libraryVersion}` }) + '\n');
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const answer = await runCase(JSON.parse(line));
    process.stdout.write(toJson(answer) + '\n');
  }
  process.exit(0);
}

main().catch((e) => { process.stderr.write(`driver: ${e.stack}\n`); process.exit(1); });
