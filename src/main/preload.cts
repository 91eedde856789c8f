/**
 * Preload of the desktop window: puts `window.hcm` (the API contract) into the page through
 * contextBridge, and nothing else. It runs sandboxed, where `require` knows only a few modules
 * ('electron' among them), so this file imports nothing at runtime but 'electron'; the
 * compiler checks the method and event lists against src/shared/api.ts.
 */
import type { HcmEvent, HcmEvents, HcmMethod } from '../shared/api.js';

type Reply = { ok: true; result: unknown } | { ok: false; error: string; code?: string };

// Record<…, true> makes the compiler reject a missing or unknown name.
const METHODS: Record<HcmMethod, true> = {
  getAppInfo: true,
  listConnections: true,
  getConnection: true,
  validateConnectionString: true,
  addConnection: true,
  removeConnection: true,
  restartConnection: true,
  testConnection: true,
  getLogs: true,
  getUpdateState: true,
  checkForUpdates: true,
  installUpdate: true,
  startDemo: true,
  stopDemo: true,
  sendTestTraffic: true,
  replaceConnectionString: true,
  setEndpoint: true,
  acceptEndpointChange: true,
  getLogLevel: true,
  setLogLevel: true,
  openLogFolder: true,
  getProxy: true,
  setProxy: true,
  clearProxy: true,
  getAzureState: true,
  beginAzureSignIn: true,
  signOutOfAzure: true,
  listAzureHybridConnections: true,
  addFromAzure: true,
  listTunnels: true,
  closeTunnel: true,
  handOver: true,
};
const EVENTS: Record<HcmEvent, true> = { connections: true, log: true, update: true, azure: true, azureProgress: true, tunnels: true };

// A sandboxed preload has require() for a few modules only, and no ES module loader.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { contextBridge, ipcRenderer } = require('electron') as typeof import('electron');

async function call(method: HcmMethod, args: unknown[]): Promise<unknown> {
  const reply = (await ipcRenderer.invoke(`hcm:${method}`, ...args)) as Reply;
  if (reply.ok) return reply.result;
  // The code goes along so the page can choose its words by it (src/shared/errors.ts).
  throw Object.assign(new Error(reply.error), { code: reply.code });
}

const hcm = {} as Record<string, unknown>;
for (const method of Object.keys(METHODS) as HcmMethod[]) {
  hcm[method] = (...args: unknown[]) => call(method, args);
}
hcm.on = <E extends HcmEvent>(event: E, listener: (payload: HcmEvents[E]) => void): (() => void) => {
  if (!Object.prototype.hasOwnProperty.call(EVENTS, event)) throw new Error(`unknown event ${String(event)}`);
  // Hand the page only the payload, never Electron's event object (it carries the sender).
  const wrapped = (_event: unknown, payload: HcmEvents[E]) => listener(payload);
  ipcRenderer.on(`hcm:event:${event}`, wrapped);
  return () => {
    ipcRenderer.removeListener(`hcm:event:${event}`, wrapped);
  };
};

contextBridge.exposeInMainWorld('hcm', hcm);
