import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { HCM_METHODS } from '../../src/shared/api.js';
import { HCM_ERROR_CODES } from '../../src/shared/errors.js';
import { type HcmEnv, hcm, hcmEnv, listLive } from '../helpers/agent.js';
import { type EmulatorProcess, startEmulator, waitFor } from '../helpers/emulator.js';
import { type UiHost, startUiHost } from '../ui/helpers/ui-host.js';

/**
 * Property-based fuzzing of the doors into a running agent (issue 11, item 9): its control socket
 * and the UI host's WebSocket, with any JSON value, any method, any arguments, any size. The agent
 * (`hcm ui`, which is `hcm run` plus the UI) must stay up, answer every request clearly, keep its
 * memory bounded, and never put the key of its connection in an answer or a log line.
 */

const budget = (numRuns: number, ms: number) => ({ numRuns, plugins: [fc.interruptAfterTimeLimit(ms)] });

/** Requests that look like ours, with every part wrong in every way, mixed with any JSON at all. */
const request = fc.oneof(
  fc.record({
    id: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null)),
    method: fc.oneof(fc.constantFrom(...HCM_METHODS, 'subscribe', 'on', 'constructor', '__proto__', 'toString'), fc.string()),
    args: fc.oneof(fc.array(fc.jsonValue(), { maxLength: 4 }), fc.jsonValue()),
  }),
  fc.jsonValue(),
);
const line = fc.oneof(
  request.map((r) => JSON.stringify(r)),
  fc.string({ maxLength: 200 }).filter((s) => !s.includes('\n')),
);

let emulator: EmulatorProcess;
let env: HcmEnv;
let ui: UiHost;
let key: string;
let keyPieces: string[];
const holdsKey = (text: string) => keyPieces.some((p) => text.includes(p));

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

beforeAll(async () => {
  emulator = await startEmulator({
    config: { namespaces: [{ name: 'contoso', hybridConnections: [{ name: 'orders', endpoint: '127.0.0.1:9' }] }] },
  });
  env = hcmEnv(emulator.ca);
  const cs = emulator.hybridConnections.orders!.listen;
  key = /SharedAccessKey=([^;]+)/.exec(cs)![1]!;
  keyPieces = Array.from({ length: key.length - 7 }, (_, i) => key.slice(i, i + 8));
  expect((await hcm({ ...env, env: { ...env.env, CS: cs } }, ['add', '--from-env', 'CS'])).code).toBe(0);
  ui = await startUiHost(env);
  await waitFor(async () => (await listLive(env))[0]?.status === 'Connected', 20_000, 'Connected');
});
afterAll(async () => {
  await ui?.stop();
  await emulator?.stop();
});

/** Sends lines on one control-socket connection and collects one answer per line. */
async function exchange(lines: string[]): Promise<string[]> {
  const socket = net.connect(join(env.home, 'hcm.sock'));
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let text = '';
  socket.on('data', (d) => (text += d.toString()));
  const nonEmpty = lines.filter((l) => l.trim()).length;
  socket.write(`${lines.join('\n')}\n`);
  // Answers to requests (events from a subscribe that the fuzz made come on top).
  await waitFor(() => text.split('\n').filter((l) => l.includes('"id"')).length >= nonEmpty, 20_000, `${nonEmpty} answers`);
  socket.destroy();
  return text.split('\n').filter(Boolean);
}

function checkAnswer(answer: string): void {
  const message = JSON.parse(answer) as { id?: unknown; ok?: boolean; error?: unknown; code?: unknown; event?: unknown };
  expect(holdsKey(answer), answer.slice(0, 200)).toBe(false);
  if ('event' in message) return;
  expect(typeof message.id).toBe('number');
  if (message.ok === false) {
    expect(HCM_ERROR_CODES).toContain(message.code);
    expect(typeof message.error === 'string' && message.error.length > 0 && message.error.length < 2000).toBe(true);
  } else {
    expect(message.ok).toBe(true);
  }
}

describe('fuzzing the doors of a running agent', () => {
  it('the control socket answers any lines clearly and never leaks the key', async () => {
    const before = rssMiB(ui.proc.pid!);
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 20 }), async (lines) => {
        for (const answer of await exchange(lines)) checkAnswer(answer);
      }),
      budget(150, 20_000),
    );
    // A line larger than the limit is refused and the connection closed, not buffered.
    const answers = await exchange([`{"id":1,"method":"getLogs","args":["${'x'.repeat(2 * 1024 * 1024)}"]}`]);
    expect(answers.map((a) => JSON.parse(a) as { code: string })).toEqual([expect.objectContaining({ code: 'E_BAD_REQUEST' })]);
    expect(ui.proc.exitCode).toBeNull();
    expect(rssMiB(ui.proc.pid!) - before).toBeLessThan(150);
  });

  it("the UI host's WebSocket answers any message clearly and never leaks the key", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${ui.port}/ws?token=${ui.token}`, { headers: { Origin: `http://127.0.0.1:${ui.port}` } });
    await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
    const received: string[] = [];
    ws.on('message', (d) => received.push(String(d)));
    await fc.assert(
      fc.asyncProperty(line, async (text) => {
        const count = received.filter((m) => m.includes('"id"')).length;
        ws.send(text);
        await waitFor(() => received.filter((m) => m.includes('"id"')).length > count, 20_000, 'an answer');
      }),
      budget(300, 20_000),
    );
    for (const message of received) checkAnswer(message);
    ws.close();
    expect(ui.proc.exitCode).toBeNull();
  });

  it('after the fuzzing: still relaying, and no log line holds the key', async () => {
    expect((await listLive(env)).find((c) => c.name === 'orders')?.status).toBe('Connected');
    const logs = await hcm(env, ['logs', '-n', '5000']);
    expect(logs.code).toBe(0);
    expect(holdsKey(logs.stdout)).toBe(false);
    expect(holdsKey(ui.output())).toBe(false);
    const file = readFileSync(join(env.home, 'logs', 'hcm.log'), 'utf8');
    expect(file.length).toBeGreaterThan(0);
    expect(holdsKey(file)).toBe(false);
  });
});
