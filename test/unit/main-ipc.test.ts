import { describe, expect, it } from 'vitest';
import { forwardEvents, isTrustedSender, registerIpcHandlers } from '../../src/main/ipc.js';
import { HCM_EVENTS, HCM_METHODS, type HcmHost, type HcmEvent } from '../../src/shared/api.js';

/** Main-side IPC: sender checks, argument checks and reply envelopes, with a fake ipcMain. */

type Handler = (event: unknown, ...args: unknown[]) => Promise<unknown>;

function fakeIpcMain() {
  const handlers = new Map<string, Handler>();
  return {
    handlers,
    ipcMain: {
      handle: (ch: string, fn: Handler) => void handlers.set(ch, fn),
      removeHandler: (ch: string) => void handlers.delete(ch),
    } as never,
  };
}

function recordingApi() {
  const calls: Array<[string, unknown[]]> = [];
  const api = Object.fromEntries(
    HCM_METHODS.map((m) => [m, async (...args: unknown[]) => (calls.push([m, args]), `${m}-result`)]),
  ) as unknown as HcmHost;
  return { api, calls };
}

const ownContents = { id: 1 };
const ownFrame = { url: 'app://hcm/index.html', parent: null };

describe('isTrustedSender', () => {
  const trusted = () => ownContents as never;
  it('accepts the main frame of our window on our renderer', () => {
    expect(isTrustedSender({ sender: ownContents, senderFrame: ownFrame } as never, trusted)).toBe(true);
  });
  it('refuses other windows, subframes, other origins and missing frames', () => {
    expect(isTrustedSender({ sender: { id: 2 }, senderFrame: ownFrame } as never, trusted)).toBe(false);
    expect(isTrustedSender({ sender: ownContents, senderFrame: { url: 'app://hcm/index.html', parent: ownFrame } } as never, trusted)).toBe(
      false,
    );
    expect(isTrustedSender({ sender: ownContents, senderFrame: { url: 'https://evil.example/', parent: null } } as never, trusted)).toBe(
      false,
    );
    expect(isTrustedSender({ sender: ownContents, senderFrame: { url: 'app://other/index.html', parent: null } } as never, trusted)).toBe(
      false,
    );
    expect(isTrustedSender({ sender: ownContents, senderFrame: { url: 'file:///etc/passwd', parent: null } } as never, trusted)).toBe(
      false,
    );
    expect(isTrustedSender({ sender: ownContents, senderFrame: null } as never, trusted)).toBe(false);
    expect(isTrustedSender({ sender: ownContents, senderFrame: ownFrame } as never, () => null)).toBe(false);
  });
});

describe('registerIpcHandlers', () => {
  it('registers one handler per contract method on hcm:<method>, and removes them', () => {
    const { handlers, ipcMain } = fakeIpcMain();
    const off = registerIpcHandlers(ipcMain, recordingApi().api, () => true);
    expect([...handlers.keys()].sort()).toEqual(HCM_METHODS.map((m) => `hcm:${m}`).sort());
    off();
    expect(handlers.size).toBe(0);
  });

  it('refuses untrusted senders without calling the service', async () => {
    const { handlers, ipcMain } = fakeIpcMain();
    const { api, calls } = recordingApi();
    const refused: string[] = [];
    registerIpcHandlers(
      ipcMain,
      api,
      () => false,
      (m) => refused.push(m),
    );
    const reply = await handlers.get('hcm:removeConnection')!({ senderFrame: { url: 'https://evil.example/' } }, 'ns/a');
    expect(reply).toMatchObject({ ok: false, code: 'E_REFUSED' });
    expect(calls).toEqual([]);
    expect(refused[0]).toContain('https://evil.example/');
  });

  it('checks arguments before the service sees them', async () => {
    const { handlers, ipcMain } = fakeIpcMain();
    const { api, calls } = recordingApi();
    registerIpcHandlers(ipcMain, api, () => true);
    expect(await handlers.get('hcm:getConnection')!({}, { toString: 'x' })).toMatchObject({ ok: false, code: 'E_ARGS' });
    expect(await handlers.get('hcm:addConnection')!({}, { connectionString: 'a', __proto__x: 1 })).toMatchObject({
      ok: false,
      code: 'E_ARGS',
    });
    expect(await handlers.get('hcm:listConnections')!({}, 'extra')).toMatchObject({ ok: false, code: 'E_ARGS' });
    expect(await handlers.get('hcm:validateConnectionString')!({}, 'x'.repeat(5000))).toMatchObject({ ok: false, code: 'E_ARGS' });
    expect(calls).toEqual([]);
    expect(await handlers.get('hcm:getConnection')!({}, 'ns/a')).toEqual({ ok: true, result: 'getConnection-result' });
    expect(calls).toEqual([['getConnection', ['ns/a']]]);
  });

  it('wraps service failures in an envelope with the message and code', async () => {
    const { handlers, ipcMain } = fakeIpcMain();
    const api = {
      ...recordingApi().api,
      removeConnection: async () => {
        throw Object.assign(new Error('no connection with id "x"'), { code: 'E_NO_CONNECTION' });
      },
      installUpdate: async () => undefined,
    };
    registerIpcHandlers(ipcMain, api, () => true);
    expect(await handlers.get('hcm:removeConnection')!({}, 'x')).toEqual({
      ok: false,
      error: 'no connection with id "x"',
      code: 'E_NO_CONNECTION',
    });
    // undefined results become null so they survive structured clone the same everywhere.
    expect(await handlers.get('hcm:installUpdate')!({})).toEqual({ ok: true, result: null });
  });
});

describe('forwardEvents', () => {
  it('sends every contract event to the live window only', () => {
    const listeners = new Map<HcmEvent, (p: unknown) => void>();
    const hcm = { on: (e: HcmEvent, l: (p: unknown) => void) => (listeners.set(e, l), () => listeners.delete(e)) } as never;
    const sent: Array<[string, unknown]> = [];
    let destroyed = false;
    const wc = { send: (ch: string, p: unknown) => sent.push([ch, p]), isDestroyed: () => destroyed };
    let target: typeof wc | null = wc;
    const off = forwardEvents(hcm, () => target);
    expect([...listeners.keys()].sort()).toEqual([...HCM_EVENTS].sort());
    listeners.get('log')!({ seq: 1 });
    target = null;
    listeners.get('log')!({ seq: 2 });
    target = wc;
    destroyed = true;
    listeners.get('update')!({ state: 'idle' });
    expect(sent).toEqual([['hcm:event:log', { seq: 1 }]]);
    off();
    expect(listeners.size).toBe(0);
  });
});
