/**
 * Finds the host this renderer runs under: Electron's preload puts `window.hcm` in place; in a
 * browser we open the WebSocket of `hcm ui` with the token from the printed URL.
 */
import type { HcmHost } from '../../shared/api.js';
import { takeToken } from './token.js';
import { type LinkState, connectWebSocketHost } from './websocket-host.js';

declare global {
  interface Window {
    hcm?: HcmHost;
  }
}

export interface HostConnection {
  hcm: HcmHost;
  linkState: () => LinkState;
  onLinkChange: (listener: (state: LinkState) => void) => () => void;
}

export type HostLookup = { ok: true; host: HostConnection } | { ok: false; problem: string };

export function connectToHost(win: Window = window): HostLookup {
  if (win.hcm) {
    const hcm = win.hcm;
    return { ok: true, host: { hcm, linkState: () => 'open', onLinkChange: () => () => undefined } };
  }
  const token = takeToken({ location: win.location, storage: win.sessionStorage, history: win.history });
  if (!token) {
    return {
      ok: false,
      problem: 'This page needs the full address that "hcm ui" printed, including the part after #token=.',
    };
  }
  const scheme = win.location.protocol === 'https:' ? 'wss' : 'ws';
  const hcm = connectWebSocketHost(`${scheme}://${win.location.host}/ws?token=${encodeURIComponent(token)}`);
  return { ok: true, host: { hcm, linkState: hcm.linkState, onLinkChange: hcm.onLinkChange } };
}
