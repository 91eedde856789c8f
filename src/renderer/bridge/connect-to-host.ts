/**
 * Finds the host this renderer runs under: Electron's preload puts `window.hcm` in place; in a
 * browser we open the WebSocket of `hcm ui` with the token from the printed URL.
 */
import type { HcmBridge } from '../../shared/api.js';
import { takeToken } from './token.js';
import { type LinkState, createWebSocketBridge } from './websocket-bridge.js';

declare global {
  interface Window {
    hcm?: HcmBridge;
  }
}

export interface HostConnection {
  bridge: HcmBridge;
  linkState: () => LinkState;
  onLinkChange: (listener: (state: LinkState) => void) => () => void;
}

export type HostLookup = { ok: true; host: HostConnection } | { ok: false; problem: string };

export function connectToHost(win: Window = window): HostLookup {
  if (win.hcm) {
    const bridge = win.hcm;
    return { ok: true, host: { bridge, linkState: () => 'open', onLinkChange: () => () => undefined } };
  }
  const token = takeToken({ location: win.location, storage: win.sessionStorage, history: win.history });
  if (!token) {
    return {
      ok: false,
      problem: 'This page needs the full address that "hcm ui" printed, including the part after #token=.',
    };
  }
  const scheme = win.location.protocol === 'https:' ? 'wss' : 'ws';
  const bridge = createWebSocketBridge(`${scheme}://${win.location.host}/ws?token=${encodeURIComponent(token)}`);
  return { ok: true, host: { bridge, linkState: bridge.linkState, onLinkChange: bridge.onLinkChange } };
}
