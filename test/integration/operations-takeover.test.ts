import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Forwarder,
  type HcmEnv,
  type RunningProcess,
  hcmEnv,
  listLive,
  startAgent,
  startForwarder,
  startHcm,
} from '../helpers/agent.js';
import { type EmulatorProcess, startEmulator, testConfig, waitFor } from '../helpers/emulator.js';
import { freePort } from '../helpers/ports.js';
import { type TcpServer, startEchoServer } from '../helpers/tcp-servers.js';
import { startConnectionLoad } from '../helpers/connection-load.js';
import { addConnection, removeDir, removeHome } from '../helpers/tunnel.js';

/**
 * Restart without dropping a connection (issue 16, item 2): `hcm run --takeover` ten times in a
 * row while a client opens connections without pause and holds some open for a few seconds (less
 * than the grace period). Every new connection must succeed, and no held tunnel may be cut: each
 * old agent stops listening only after its successor listens, then drains and exits 0.
 * All real processes: the emulator, the agents, `hcm connect` and an echo server.
 */

const HC = 'hc-takeover';
const GRACE_S = 20;
const HOLD_MS = 2_500;

let echo: TcpServer | undefined;
let emu: EmulatorProcess | undefined;
let env: HcmEnv | undefined;
let client: HcmEnv | undefined;
let forwarder: Forwarder | undefined;
const agents: RunningProcess[] = [];
let metricsPort = 0;

beforeAll(async () => {
  echo = await startEchoServer();
  emu = await startEmulator({ config: testConfig([{ name: HC, endpoint: `127.0.0.1:${echo.port}` }]) });
  env = hcmEnv(emu.ca);
  client = hcmEnv(emu.ca);
  await addConnection(env, emu.hybridConnections[HC]!.listen);
  metricsPort = await freePort();
  agents.push(await startAgent(env, { args: ['--grace', String(GRACE_S), '--metrics', `127.0.0.1:${metricsPort}`], waitConnected: 1 }));
  forwarder = await startForwarder(client, emu.hybridConnections[HC]!.send);
}, 120_000);

afterAll(async () => {
  await forwarder?.stop();
  for (const a of agents) await a.stop('SIGKILL');
  await emu?.stop();
  await echo?.close();
  removeHome(env);
  removeHome(client);
  removeDir(emu?.stateDir);
});

describe('hcm run --takeover', () => {
  it('restarts 10 times under continuous load: no new connection fails, no held tunnel is cut', async () => {
    const load = startConnectionLoad(forwarder!.port, { short: 3, held: 4, holdMs: HOLD_MS });

    const exits: Array<Promise<number | null>> = [];
    const takeoverMs: number[] = [];
    for (let round = 1; round <= 10; round++) {
      await new Promise((r) => setTimeout(r, 700)); // let the load reach the current agent
      const previous = agents[agents.length - 1]!;
      const began = Date.now();
      const next = startHcm(env!, ['run', '--takeover', '--grace', String(GRACE_S), '--metrics', `127.0.0.1:${metricsPort}`]);
      agents.push(next);
      await waitFor(
        () => next.output().includes('took over from agent pid') || next.proc.exitCode !== null,
        30_000,
        `round ${round}: the new agent to take over`,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n--- new agent:\n${next.output()}\n--- previous agent:\n${previous.output().slice(-3000)}`);
      });
      takeoverMs.push(Date.now() - began);
      // The metrics port moved to the new agent too (SO_REUSEPORT while both run), and it is ready.
      await waitFor(() => next.output().includes('metrics on http://'), 10_000, `round ${round}: the new agent's metrics port`);
      const ready = await fetch(`http://127.0.0.1:${metricsPort}/ready`);
      expect(ready.status).toBe(200);
      expect(next.proc.exitCode, next.output()).toBeNull();
      expect(previous.output()).toContain('handing over to a new agent');
      exits.push(previous.exited);
    }
    await new Promise((r) => setTimeout(r, 1_500));
    const { opened, held, failures } = await load.stop();

    console.log(
      `takeover x10: ${opened} short and ${held} held connections, ${failures.length} failed; ` +
        `start to take-over ${Math.min(...takeoverMs)}-${Math.max(...takeoverMs)} ms`,
    );
    expect(failures, failures.slice(0, 10).join('\n')).toEqual([]);
    expect(opened).toBeGreaterThan(100);
    expect(held).toBeGreaterThan(10);
    // Every old agent drained within the grace period and exited cleanly.
    const codes = await Promise.all(exits);
    expect(codes).toEqual(Array(10).fill(0));
    for (const a of agents.slice(0, 10)) {
      expect(a.output()).toContain('handed over: this agent exits');
      expect(a.output()).not.toMatch(/ended after [\d.]+ s: .*\(aborted\)/);
    }
    // The last agent serves the CLI over the control socket.
    const last = agents[agents.length - 1]!;
    expect(last.proc.exitCode).toBeNull();
  }, 300_000);
});

/**
 * What `systemctl reload` does with the unit hcm service writes: SIGHUP to the main process, which
 * starts its successor (`hcm run --takeover`); the successor tells systemd it is the main process
 * now (MAINPID through NOTIFY_SOCKET) and the old one drains and exits. systemd is not running here,
 * so a small datagram socket stands in for its notification socket.
 */
const canNotify = ['python3', 'systemd-notify'].every((tool) => spawnSync(tool, ['--version']).status === 0);

describe.runIf(canNotify)('hcm run --hup-takeover (systemctl reload)', () => {
  it('on SIGHUP starts a successor that takes over and reports itself as MAINPID', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hcm-notify-'));
    const socket = join(dir, 'notify');
    // Python reads the datagrams (Node has no Unix datagram sockets); fds sent with them are dropped.
    const notify: ChildProcess = spawn(
      'python3',
      [
        '-u',
        '-c',
        'import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint("ready",flush=True)\nwhile True:\n  print(s.recv(4096).decode().replace("\\n"," "),flush=True)',
        socket,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let heard = '';
    notify.stdout!.on('data', (d: Buffer) => (heard += d.toString()));
    await waitFor(() => heard.includes('ready'), 10_000, 'the notification socket');
    const own = hcmEnv(emu!.ca, { NOTIFY_SOCKET: socket });
    await addConnection(own, emu!.hybridConnections[HC]!.listen);
    const first = startHcm(own, ['run', '--grace', '5', '--hup-takeover']);
    try {
      await waitFor(() => first.output().includes('status Connected'), 20_000, 'the first agent to connect');
      first.proc.kill('SIGHUP');
      await waitFor(() => /MAINPID=\d+/.test(heard), 30_000, 'MAINPID from the successor').catch(() => {
        throw new Error(first.output());
      });
      const successor = Number(/MAINPID=(\d+)/.exec(heard)![1]);
      expect(successor).not.toBe(first.proc.pid);
      expect(await first.exited).toBe(0);
      expect(first.output()).toContain('SIGHUP: starting a new agent that takes over from this one');
      expect(first.output()).toContain('handed over: this agent exits');
      // The successor serves the CLI and the relay.
      const live = await listLive(own);
      expect(live.map((c) => c.status)).toEqual(['Connected']);
      process.kill(successor, 'SIGTERM');
      await waitFor(
        () => {
          try {
            process.kill(successor, 0);
            return false;
          } catch {
            return true;
          }
        },
        20_000,
        'the successor to stop',
      );
    } finally {
      await first.stop('SIGKILL');
      notify.kill();
    }
  }, 120_000);
});
