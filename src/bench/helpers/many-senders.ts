import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type WebSocket from 'ws';
import { parseConnectionString } from '../../relay/connection-string.js';
import { openSender } from '../../relay/sender.js';

/**
 * Traffic across many Hybrid Connections at once (the many-connections test): one sender
 * connection per Hybrid Connection, all opened together, as App Service opens them; each sends
 * BYTES of its own byte stream to an echo endpoint behind the agent and checks every byte that
 * comes back, in order. Usage: many-senders.js SPEC.json, where SPEC is
 * {"ca": file|null, "send": [connection string, …], "bytes": n}. Prints one JSON line of results.
 */

interface Spec {
  ca: string | null;
  send: string[];
  bytes: number;
}

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Spec;
const CHUNK = 16 * 1024;
/** Bytes in flight per connection before it waits for its sends to be written. */
const WINDOW = 256 * 1024;
const TIMEOUT_MS = 300_000;
// One random pattern; connection i sends it from its own offset, so a byte delivered to the wrong
// connection, twice, out of order or changed does not match. The tail repeats the head, so every
// slice of up to CHUNK bytes is contiguous.
const PATTERN_SIZE = 1024 * 1024;
const pattern = Buffer.alloc(PATTERN_SIZE + CHUNK);
randomBytes(PATTERN_SIZE).copy(pattern);
pattern.copy(pattern, PATTERN_SIZE, 0, CHUNK);
const transport = spec.ca ? { ca: readFileSync(spec.ca, 'utf8') } : {};

interface Outcome {
  ok: boolean;
  received: number;
  checked: number;
  mismatch: boolean;
  error?: string;
}

/** Compares `data` with the stream of connection `offset` at position `at`. */
function matches(data: Buffer, offset: number, at: number): boolean {
  for (let done = 0; done < data.length;) {
    const start = (offset + at + done) % PATTERN_SIZE;
    const n = Math.min(CHUNK, data.length - done);
    if (!data.subarray(done, done + n).equals(pattern.subarray(start, start + n))) return false;
    done += n;
  }
  return true;
}

/**
 * Every connection is opened first, all at once; the traffic starts on all of them together once
 * the last has opened (or failed). Sending while others still open made the opening burst and
 * the data burst compete for the same two cores, and openings timed out behind the traffic.
 */
let settled = 0;
let openSeconds = 0;
let trafficStart = 0;
let startTraffic!: () => void;
const allOpen = new Promise<void>((resolve) => (startTraffic = resolve));
function openSettled(): void {
  if (++settled < spec.send.length) return;
  trafficStart = performance.now();
  openSeconds = (trafficStart - t0) / 1000;
  startTraffic();
}

function one(index: number, connectionString: string): Promise<Outcome> {
  const offset = (index * 7919) % PATTERN_SIZE;
  const outcome: Outcome = { ok: false, received: 0, checked: 0, mismatch: false };
  return new Promise((resolve) => {
    let ws: WebSocket | undefined;
    const finish = (error?: string) => {
      if (error) outcome.error ??= error;
      outcome.ok = !outcome.error && !outcome.mismatch && outcome.checked === spec.bytes;
      ws?.terminate();
      resolve(outcome);
    };
    openSender(parseConnectionString(connectionString), transport).then(
      (socket) => {
        ws = socket;
        let sent = 0;
        let inFlight = 0;
        const pump = () => {
          while (sent < spec.bytes && inFlight < WINDOW) {
            const n = Math.min(CHUNK, spec.bytes - sent);
            const start = (offset + sent) % PATTERN_SIZE;
            inFlight += n;
            sent += n;
            socket.send(pattern.subarray(start, start + n), { binary: true }, (err) => {
              inFlight -= n;
              if (err) finish(`send: ${err.message}`);
              else pump();
            });
          }
        };
        socket.on('message', (data: Buffer) => {
          if (!matches(data, offset, outcome.received)) outcome.mismatch = true;
          else outcome.checked += data.length;
          outcome.received += data.length;
          if (outcome.received >= spec.bytes) {
            if (outcome.received > spec.bytes) outcome.error = `received ${outcome.received} bytes, sent ${spec.bytes}`;
            socket.close(1000);
            finish();
          }
        });
        socket.on('close', (code) => {
          if (outcome.received < spec.bytes) finish(`closed (${code}) after ${outcome.received} of ${spec.bytes} bytes`);
        });
        socket.on('error', (err) => finish(err.message));
        openSettled();
        void allOpen.then(pump);
      },
      (err: Error) => {
        openSettled();
        finish(`open: ${err.message}`);
      },
    );
  });
}

const t0 = performance.now();
const timer = setTimeout(() => {
  process.stdout.write(`${JSON.stringify({ error: `not done within ${TIMEOUT_MS / 1000} s` })}\n`);
  process.exit(1);
}, TIMEOUT_MS);
void Promise.all(spec.send.map((cs, i) => one(i, cs))).then((outcomes) => {
  clearTimeout(timer);
  const failed = outcomes.filter((o) => !o.ok);
  process.stdout.write(
    `${JSON.stringify({
      connections: outcomes.length,
      bytesEach: spec.bytes,
      openSeconds,
      seconds: (performance.now() - trafficStart) / 1000,
      receivedBytes: outcomes.reduce((s, o) => s + o.received, 0),
      checkedBytes: outcomes.reduce((s, o) => s + o.checked, 0),
      mismatches: outcomes.filter((o) => o.mismatch).length,
      failures: failed.length,
      errors: [...new Set(failed.map((o) => o.error ?? 'mismatch'))].slice(0, 5),
    })}\n`,
  );
  process.exit(0);
});
