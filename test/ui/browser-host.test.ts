import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findElectronBinary } from '../../src/cli/start.js';
import { type HcmEnv, hcm, startAgent } from '../helpers/agent.js';
import { waitFor } from '../helpers/emulator.js';
import { launchChromium, openPage } from './helpers/browser.js';
import { type UiHost, startUiHost } from './helpers/ui-host.js';

/** `hcm ui` and `npm start` as processes: admission of pages, conflicts, and the Electron fallback. */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const START = join(ROOT, 'dist', 'cli', 'start.js');

function freshEnv(): HcmEnv {
  const home = mkdtempSync(join(tmpdir(), 'hcm-host-'));
  return { home, env: { ...process.env, HCM_HOME: home } };
}

describe('hcm ui', () => {
  let env: HcmEnv;
  let host: UiHost;
  let browser: Browser;
  beforeAll(async () => {
    env = freshEnv();
    host = await startUiHost(env);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await host?.stop();
  });

  it('tells a page opened without the token how to get in, and shows no data', async () => {
    const { page } = await openPage(browser, `http://127.0.0.1:${host.port}/`);
    await page.getByText('Cannot reach the HCM host').waitFor();
    expect(await page.locator('body').innerText()).toContain('including the part after #token=');
    expect(await page.getByRole('tab').count()).toBe(0);
    await page.context().close();
  });

  it('keeps a page with a wrong token out and says it lost contact', async () => {
    const { page } = await openPage(browser, `http://127.0.0.1:${host.port}/#token=not-the-token`);
    await page.getByTestId('link-lost').waitFor({ timeout: 15_000 });
    // Nothing from the host reached the page: no list, not even an empty one.
    expect(await page.getByTestId('empty-state').count()).toBe(0);
    expect(await page.getByTestId('connections-table').count()).toBe(0);
    await page.context().close();
  });

  it('shows the agent already running for the configuration (hcm run), and stops when it stops', async () => {
    const agentEnv = freshEnv();
    const agent = await startAgent(agentEnv);
    const ui = await startUiHost(agentEnv);
    const { page } = await openPage(browser, ui.url);
    await page.getByText('Agent · v').waitFor();
    await page.getByTestId('empty-state').waitFor();
    expect(ui.output()).toContain('an agent is already running for this configuration');
    expect(await agent.stop()).toBe(0);
    expect(await ui.exited).toBe(1);
    expect(ui.output()).toContain('hcm: the agent stopped; the UI stops with it');
    await page.context().close();
  });

  it('says which port it could not use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await hcm(freshEnv(), ['ui', '--port', String(port)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`cannot serve the UI on 127.0.0.1:${port}`);
    } finally {
      blocker.close();
    }
  });

  it('rejects a bad --port before doing anything', async () => {
    const r = await hcm(freshEnv(), ['ui', '--port', 'eighty']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--port must be a whole number');
  });

  it('stops cleanly on SIGTERM', async () => {
    const other = await startUiHost(freshEnv());
    expect(await other.stop()).toBe(0);
    expect(other.output()).toContain('agent stopped');
  });
});

describe('npm start (dist/cli/start.js)', () => {
  function runStart(extraEnv: NodeJS.ProcessEnv, args: string[] = []) {
    const env = { ...freshEnv().env, ...extraEnv };
    const child = spawn(process.execPath, [START, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, exited, out: () => stdout, err: () => stderr };
  }

  it('without an Electron binary, says why in one line and serves the UI to a browser instead', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-electron-'));
    const run = runStart({ ELECTRON_OVERRIDE_DIST_PATH: empty }, ['--port', '0']);
    await waitFor(() => run.out().includes('HCM UI: http://127.0.0.1:'), 20_000, 'the browser URL');
    const first = run.err().split('\n')[0]!;
    expect(first).toMatch(
      /^hcm: desktop app not available: ELECTRON_OVERRIDE_DIST_PATH has no Electron binary .*; serving the same UI to your browser instead \(hcm ui\)\.$/,
    );
    const url = /HCM UI: (\S+)/.exec(run.out())![1]!;
    const res = await fetch(url.replace(/#.*/, ''));
    expect(res.status).toBe(200);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('where the binary exists, starts it on the app folder with the arguments given', async () => {
    const dist = mkdtempSync(join(tmpdir(), 'fake-electron-dist-'));
    const marker = join(dist, 'ran.txt');
    // A stand-in executable: Electron itself cannot be downloaded on these machines.
    writeFileSync(
      join(dist, 'electron'),
      `#!/bin/sh\nprintf '%s\\n' "$@" > '${marker}'\necho "ELECTRON_RUN_AS_NODE=$ELECTRON_RUN_AS_NODE" >> '${marker}'\n`,
    );
    chmodSync(join(dist, 'electron'), 0o755);
    const run = runStart({ ELECTRON_OVERRIDE_DIST_PATH: dist, ELECTRON_RUN_AS_NODE: '1' }, ['--inspect-ui']);
    expect(await run.exited).toBe(0);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(marker, 'utf8').split('\n')).toEqual([ROOT, '--inspect-ui', 'ELECTRON_RUN_AS_NODE=', '']);
    expect(run.err()).toBe('');
  });

  it('finds the binary the way the electron package records it, without running that package', () => {
    const pkg = mkdtempSync(join(tmpdir(), 'electron-pkg-'));
    expect(findElectronBinary(null, {})).toEqual({ found: false, reason: 'the electron package is not installed (run npm install)' });
    expect(findElectronBinary(pkg, {})).toMatchObject({ found: false, reason: expect.stringContaining('path.txt is missing') });
    writeFileSync(join(pkg, 'path.txt'), 'electron');
    expect(findElectronBinary(pkg, {})).toMatchObject({ found: false, reason: expect.stringContaining("Electron's binary is missing") });
    mkdirSync(join(pkg, 'dist'));
    writeFileSync(join(pkg, 'dist', 'electron'), '');
    expect(findElectronBinary(pkg, {})).toEqual({ found: true, binary: join(pkg, 'dist', 'electron') });
  });
});
