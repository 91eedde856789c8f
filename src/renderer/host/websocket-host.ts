/**
 * `window.hcm` for the browser host: the contract over one WebSocket (src/shared/api.ts wire
 * messages). Calls made while the socket is down wait for it to come back; calls in flight when
 * it drops fail with a message a person can act on. A refused call rejects with an Error carrying
 * the reply's `code` (src/shared/errors.ts). Reconnects with backoff, because `hcm ui`
 * may be restarted under an open tab.
 */
import {
  HCM_METHODS,
  type HcmApi,
  type HcmHost,
  type HcmEvent,
  type HcmEvents,
  type HcmMethod,
  type WireEvent,
  type WireRequest,
  type WireResponse,
} from '../../shared/api.js';
import { EventListeners } from '../../shared/event-listeners.js';
import { codedError } from '../errors.js';

export type LinkState = 'connecting' | 'open' | 'lost';

export interface WebSocketHost extends HcmHost {
  linkState(): LinkState;
  onLinkChange(listener: (state: LinkState) => void): () => void;
  close(): void;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

const RETRY_DELAYS_MS = [500, 1000, 2000, 5000];

type WebSocketLike = Pick<WebSocket, 'send' | 'close' | 'readyState'> & {
  onopen: ((ev: Event) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
};

export function connectWebSocketHost(url: string, makeSocket: (url: string) => WebSocketLike = (u) => new WebSocket(u)): WebSocketHost {
  let socket: WebSocketLike | null = null;
  let state: LinkState = 'connecting';
  let nextId = 1;
  let failures = 0;
  let closed = false;
  const pending = new Map<number, Pending>();
  const queued: WireRequest[] = [];
  const eventListeners = new EventListeners();
  const linkListeners = new Set<(state: LinkState) => void>();

  const setState = (next: LinkState) => {
    if (next === state) return;
    state = next;
    for (const l of linkListeners) l(next);
  };

  const open = () => {
    const ws = makeSocket(url);
    socket = ws;
    ws.onopen = () => {
      failures = 0;
      setState('open');
      for (const request of queued.splice(0)) ws.send(JSON.stringify(request));
    };
    ws.onmessage = (ev) => receive(String(ev.data));
    ws.onerror = () => {
      /* onclose follows and does the work */
    };
    ws.onclose = () => {
      socket = null;
      for (const [id, p] of pending) {
        pending.delete(id);
        p.reject(codedError('Lost contact with the HCM host before it answered. Check that it is still running.', 'E_UNAVAILABLE'));
      }
      if (closed) return;
      setState(failures > 0 || state === 'open' ? 'lost' : state);
      const delay = RETRY_DELAYS_MS[Math.min(failures, RETRY_DELAYS_MS.length - 1)]!;
      failures += 1;
      setTimeout(() => !closed && open(), delay);
    };
  };

  const receive = (text: string) => {
    let message: WireResponse | WireEvent;
    try {
      message = JSON.parse(text) as WireResponse | WireEvent;
    } catch {
      return;
    }
    if ('event' in message) {
      eventListeners.emit(message.event, message.payload);
      return;
    }
    const p = pending.get(message.id);
    if (!p) return;
    pending.delete(message.id);
    if (message.ok) p.resolve(message.result);
    // The code goes along (as the Electron preload does it), so the page chooses its words by it.
    else p.reject(codedError(message.error, message.code));
  };

  const call = (method: HcmMethod, args: unknown[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const request: WireRequest = { id: nextId++, method, args };
      pending.set(request.id, { resolve, reject });
      if (socket && state === 'open') socket.send(JSON.stringify(request));
      else queued.push(request);
    });

  const api = Object.fromEntries(HCM_METHODS.map((m) => [m, (...args: unknown[]) => call(m, args)])) as unknown as HcmApi;

  open();

  return {
    ...api,
    on: <E extends HcmEvent>(event: E, listener: (payload: HcmEvents[E]) => void) => eventListeners.on(event, listener),
    linkState: () => state,
    onLinkChange(listener) {
      linkListeners.add(listener);
      return () => linkListeners.delete(listener);
    },
    close() {
      closed = true;
      socket?.close();
    },
  };
}
