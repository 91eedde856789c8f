import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { registerIpcHandlers } from '../../src/main/ipc.js';
import { HCM_METHODS, type HcmHost, type HcmEvent } from '../../src/shared/api.js';
import { aSummary } from '../helpers/summaries.js';

/**
 * The compiled preload (dist/main/preload.cjs) run the way Electron runs a sandboxed preload:
 * wrapped in a function whose `require` knows only 'electron', in a context without Node.
 * Its ipcRenderer.invoke is wired to the real main-side handlers (src/main/ipc.ts), so a call
 * from the page goes through both halves of the IPC contract.
 */

const PRELOAD = fileURLToPath(new URL('../../dist/main/preload.cjs', import.meta.url));

interface Harness {
  exposed: Map<string, unknown>;
  required: string[];
  deliver(channel: string, payload: unknown): void;
  listenerCount(channel: string): number;
  invoked: string[];
}

function loadPreload(api: Parameters<typeof registerIpcHandlers>[1]): Harness {
  const handlers = new Map<string, (event: unknown, ...args: unknown[]) => Promise<unknown>>();
  registerIpcHandlers(
    { handle: (ch: string, fn: never) => void handlers.set(ch, fn), removeHandler: (ch: string) => void handlers.delete(ch) },
    api,
    () => true,
  );
  const exposed = new Map<string, unknown>();
  const required: string[] = [];
  const invoked: string[] = [];
  const listeners = new Map<string, Set<(...a: unknown[]) => void>>();
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, value: unknown) => exposed.set(key, value) },
    ipcRenderer: {
      invoke: async (channel: string, ...args: unknown[]) => {
        invoked.push(channel);
        const handler = handlers.get(channel);
        if (!handler) throw new Error(`No handler registered for '${channel}'`);
        // Electron's IPC copies values with structured clone; so do we.
        return structuredClone(await handler({ sender: null, senderFrame: null }, ...structuredClone(args)));
      },
      on: (channel: string, l: (...a: unknown[]) => void) => listeners.set(channel, (listeners.get(channel) ?? new Set()).add(l)),
      removeListener: (channel: string, l: (...a: unknown[]) => void) => listeners.get(channel)?.delete(l),
    },
  };
  const sandboxRequire = (name: string) => {
    required.push(name);
    if (name === 'electron') return electron;
    throw new Error(`module not found: ${name} (sandboxed preloads cannot load it)`);
  };
  const source = readFileSync(PRELOAD, 'utf8');
  const wrapper = runInNewContext(
    `(function (require, process, Buffer, global, setImmediate, clearImmediate, exports, module) {\n${source}\n})`,
    {},
  ) as (...a: unknown[]) => void;
  const module = { exports: {} };
  wrapper(
    sandboxRequire,
    { type: 'renderer', sandboxed: true, contextIsolated: true },
    undefined,
    {},
    undefined,
    undefined,
    module.exports,
    module,
  );
  return {
    exposed,
    required,
    invoked,
    deliver: (channel, payload) => listeners.get(channel)?.forEach((l) => l({ sender: 'electron event object' }, payload)),
    listenerCount: (channel) => listeners.get(channel)?.size ?? 0,
  };
}

const summary = aSummary({ status: 'Connecting' });

function api(overrides: Partial<HcmHost> = {}) {
  const base = Object.fromEntries(HCM_METHODS.map((m) => [m, async () => ({ method: m })]));
  return { ...base, ...overrides } as unknown as HcmHost;
}

describe('preload', () => {
  it("requires nothing but 'electron' and exposes exactly window.hcm", () => {
    const h = loadPreload(api());
    expect(h.required).toEqual(['electron']);
    expect([...h.exposed.keys()]).toEqual(['hcm']);
  });

  it('exposes every contract method and on(), nothing else', () => {
    const hcm = loadPreload(api()).exposed.get('hcm') as Record<string, unknown>;
    expect(Object.keys(hcm).sort()).toEqual([...HCM_METHODS, 'on'].sort());
  });

  it('reaches the main-side handler of every method on the same channel', async () => {
    const h = loadPreload(api());
    const hcm = h.exposed.get('hcm') as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const argsFor: Partial<Record<string, unknown[]>> = {
      addConnection: [{ connectionString: 'x' }],
      replaceConnectionString: ['ns/a', 'x'],
      setEndpoint: ['ns/a', 'db:5432'],
      setLogLevel: ['debug'],
      setProxy: [{ url: 'direct' }],
      beginAzureSignIn: [{ method: 'browser' }],
      addFromAzure: [[{ tenantId: 't', subscriptionId: 's', resourceGroup: 'g', namespace: 'n', name: 'h' }]],
      closeTunnel: ['ns/a', 'ns/a#1'],
      handOver: [{ graceMs: 0 }],
    };
    const oneId = [
      'getConnection',
      'removeConnection',
      'restartConnection',
      'testConnection',
      'validateConnectionString',
      'sendTestTraffic',
      'acceptEndpointChange',
      'listTunnels',
    ];
    for (const method of HCM_METHODS) {
      const args = argsFor[method] ?? (oneId.includes(method) ? ['ns/a'] : []);
      await expect(hcm[method]!(...args), method).resolves.toEqual({ method });
    }
    expect(h.invoked).toEqual(HCM_METHODS.map((m) => `hcm:${m}`));
  });

  it("rejects with the service's own message, not Electron's wrapping", async () => {
    const h = loadPreload(
      api({
        getConnection: async () => {
          throw new Error('no connection with id "ns/zz"');
        },
      }),
    );
    const hcm = h.exposed.get('hcm') as HcmHost;
    await expect(hcm.getConnection('ns/zz')).rejects.toThrow(/^no connection with id "ns\/zz"$/);
    await expect((hcm.getConnection as (...a: unknown[]) => Promise<unknown>)(7)).rejects.toThrow(/id must be a string/);
  });

  it('delivers events as payload only and unsubscribes', () => {
    const h = loadPreload(api());
    const hcm = h.exposed.get('hcm') as HcmHost;
    const got: unknown[][] = [];
    const off = hcm.on('connections', (...args: unknown[]) => got.push(args));
    h.deliver('hcm:event:connections', [summary]);
    expect(got).toEqual([[[summary]]]);
    off();
    expect(h.listenerCount('hcm:event:connections')).toBe(0);
    h.deliver('hcm:event:connections', []);
    expect(got).toHaveLength(1);
  });

  it('refuses to subscribe to channels outside the contract', () => {
    const hcm = loadPreload(api()).exposed.get('hcm') as HcmHost;
    expect(() => hcm.on('ipc-internal' as HcmEvent, () => undefined)).toThrow(/unknown event/);
  });
});
