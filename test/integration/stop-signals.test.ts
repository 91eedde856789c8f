import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hcmEnv } from '../helpers/agent.js';
import { type EmulatorProcess, startEmulator, testConfig } from '../helpers/emulator.js';
import { CLI } from '../helpers/paths.js';

/**
 * A supervisor that signals the moment it reads the ready line must get a clean stop (exit 0),
 * never the default action of a signal that came before the handlers: they are installed before
 * anything is printed. Before this was so, about half of these runs died by SIGTERM.
 */

let emulator: EmulatorProcess;
beforeAll(async () => {
  emulator = await startEmulator({ config: testConfig([{ name: 'sig', endpoint: '127.0.0.1:9' }]) });
});
afterAll(async () => {
  await emulator?.stop();
});

/** Starts the command, sends SIGTERM as soon as a line matches `ready`, resolves with how it ended. */
function stopAtReady(
  args: string[],
  ready: RegExp,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const watch = (stream: NodeJS.ReadableStream) =>
      createInterface({ input: stream }).on('line', (line) => {
        if (ready.test(line)) child.kill('SIGTERM');
      });
    watch(child.stdout);
    watch(child.stderr);
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
}

describe('stopped at the ready line', () => {
  const runs = 4;

  it('hcm ui exits 0 every time', async () => {
    for (let i = 0; i < runs; i++) {
      const { env } = hcmEnv(emulator.ca);
      expect(await stopAtReady(['ui', '--port', '0', '--grace', '1'], /^HCM UI: /, env)).toEqual({ code: 0, signal: null });
    }
  });

  it('hcm run exits 0 every time', async () => {
    for (let i = 0; i < runs; i++) {
      const { env } = hcmEnv(emulator.ca);
      expect(await stopAtReady(['run', '--grace', '1'], /agent started/, env)).toEqual({ code: 0, signal: null });
    }
  });

  it('hcm connect exits 0 every time', async () => {
    for (let i = 0; i < runs; i++) {
      const { env } = hcmEnv(emulator.ca, { CS: emulator.hybridConnections.sig!.send });
      expect(await stopAtReady(['connect', '--from-env', 'CS', '--port', '0'], /^forwarding /, env)).toEqual({ code: 0, signal: null });
    }
  });
});
