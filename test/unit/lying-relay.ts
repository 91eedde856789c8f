import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { type ConnectionString, parseConnectionString } from '../../src/relay/connection-string.js';
import { type AcceptCommand, type ChannelClosed, ControlChannel, type ControlChannelOptions } from '../../src/relay/control-channel.js';
import { tokenProviderFor } from '../../src/relay/token-provider.js';

/**
 * A relay that says whatever a test wants on the control channel: a plain `ws` server on
 * loopback, reached through a development-emulator connection string. It records the tokens the
 * agent presented, so a test can check none of them comes back in a message or a log line.
 */

export const KEY = 'XKv4zZ0b5hd3q8d2mD6e7sVb1FzJQm0kS9cW5Yt3uQ0=';

export interface LyingRelay {
  port: number;
  cs: ConnectionString;
  /** ServiceBusAuthorization headers received, in order. */
  tokens: string[];
  /** The relay side of the next control channel that connects. */
  nextChannel(): Promise<WebSocket>;
  close(): Promise<void>;
}

export async function startLyingRelay(entity = 'hc'): Promise<LyingRelay> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const port = (wss.address() as AddressInfo).port;
  const tokens: string[] = [];
  const waiting: Array<(ws: WebSocket) => void> = [];
  const arrived: WebSocket[] = [];
  wss.on('connection', (ws, req) => {
    ws.on('error', () => undefined);
    tokens.push(String(req.headers.servicebusauthorization ?? ''));
    const w = waiting.shift();
    if (w) w(ws);
    else arrived.push(ws);
  });
  return {
    port,
    cs: parseConnectionString(
      `Endpoint=sb://127.0.0.1:${port}/;SharedAccessKeyName=defaultListener;SharedAccessKey=${KEY};EntityPath=${entity};UseDevelopmentEmulator=true`,
    ),
    tokens,
    nextChannel: () => {
      const ws = arrived.shift();
      return ws ? Promise.resolve(ws) : new Promise((resolve) => waiting.push(resolve));
    },
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

export interface Observed {
  channel: ControlChannel;
  relaySide: WebSocket;
  /** Every event the channel emitted, as `name: payload` text (what a log line would carry). */
  events: string[];
  accepts: string[];
  acceptCommands: AcceptCommand[];
  closed: Promise<ChannelClosed>;
}

/** Opens a real ControlChannel to `relay` and records what it emits. */
export async function openObserved(relay: LyingRelay, options: Partial<ControlChannelOptions> = {}): Promise<Observed> {
  const channel = new ControlChannel({ cs: relay.cs, tokens: tokenProviderFor(relay.cs), ...options });
  const events: string[] = [];
  const accepts: string[] = [];
  const acceptCommands: AcceptCommand[] = [];
  channel.on('unknown', (what) => events.push(`unknown: ${what}`));
  channel.on('request', (id) => events.push(`request: ${id}`));
  channel.on('renewed', (left) => events.push(`renewed: ${left}`));
  channel.on('accept', (a) => {
    accepts.push(a.address);
    acceptCommands.push(a);
    // What the supervisor logs of an accept.
    events.push(`accept: ${a.id} ${a.remoteEndpoint?.address ?? ''}`);
  });
  const closed = new Promise<ChannelClosed>((resolve) =>
    channel.on('closed', (info) => {
      events.push(`closed: ${info.code} ${info.reason} ${info.error?.message ?? ''}`);
      resolve(info);
    }),
  );
  const [relaySide] = await Promise.all([relay.nextChannel(), channel.open()]);
  return { channel, relaySide, events, accepts, acceptCommands, closed };
}

/** Sends `messages`, then a marker accept, and resolves once the channel has handled all of them. */
export async function sendAndSettle(o: Observed, relay: LyingRelay, messages: Array<string | Buffer>): Promise<void> {
  for (const m of messages) o.relaySide.send(m);
  const marker = `ws://127.0.0.1:${relay.port}/$hc/${relay.cs.entityPath}?sb-hc-action=accept&sb-hc-id=marker-${Math.random()}`;
  o.relaySide.send(JSON.stringify({ accept: { address: marker, id: 'marker' } }));
  const deadline = Date.now() + 10_000;
  while (!o.accepts.includes(marker)) {
    if (o.relaySide.readyState !== WebSocket.OPEN || !o.channel.isOpen) return; // the channel ended itself
    if (Date.now() > deadline) throw new Error('the channel did not handle the messages within 10 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}
