import { chmodSync, existsSync, lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';
import {
  HCM_EVENTS,
  HCM_METHODS,
  type HcmBridge,
  type HcmEvent,
  type HcmMethod,
  type WireEvent,
  type WireRequest,
  type WireResponse,
} from '../shared/api.js';

/**
 * The local control socket of a running agent (desktop app or `hcm run`): the API contract as
 * newline-delimited JSON over a Unix socket (mode 0600, so only this user) or a named pipe.
 * Besides the contract methods, `subscribe` starts a stream of events on the same connection.
 */

const MAX_LINE = 1024 * 1024;

export class AgentAlreadyRunningError extends Error {
  readonly code = 'E_AGENT_RUNNING';
  constructor(path: string) {
    super(
      `another HCM agent is already running for this configuration (control socket ${path}); stop it first or use it (hcm list, hcm logs)`,
    );
    this.name = 'AgentAlreadyRunningError';
  }
}

export class UntrustedSocketError extends Error {
  readonly code = 'E_SOCKET_UNTRUSTED';
  constructor(path: string, why: string) {
    super(`refusing to use the control socket ${path}: ${why}; nothing was sent to it`);
    this.name = 'UntrustedSocketError';
  }
}

/**
 * Before the CLI sends anything (a connection string, say) it checks that the socket is one this
 * user made: a socket file owned by this user, in a folder only this user can write to. Node has
 * no API for the peer's credentials (SO_PEERCRED), so ownership of the file and folder is the check.
 * Returns false when there is no socket (no agent running).
 */
export function checkControlSocket(path: string, uid: number | null = process.getuid?.() ?? null): boolean {
  if (process.platform === 'win32' || uid === null) return true;
  let info;
  try {
    info = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new UntrustedSocketError(path, `it cannot be inspected (${(err as NodeJS.ErrnoException).code})`);
  }
  if (!info.isSocket()) throw new UntrustedSocketError(path, 'it is not a socket');
  if (info.uid !== uid) throw new UntrustedSocketError(path, `it belongs to user ${info.uid}, not to you (${uid})`);
  const folder = lstatSync(dirname(path));
  if (!folder.isDirectory() || folder.uid !== uid || (folder.mode & 0o022) !== 0) {
    throw new UntrustedSocketError(path, `its folder ${dirname(path)} is not a private folder of yours`);
  }
  return true;
}

function canConnect(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface ControlServer {
  close(): Promise<void>;
}

export async function startControlServer(path: string, api: HcmBridge): Promise<ControlServer> {
  if (process.platform !== 'win32' && existsSync(path)) {
    if (await canConnect(path)) throw new AgentAlreadyRunningError(path);
    unlinkSync(path); // left behind by an agent that crashed
  }
  const connections = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    serveConnection(socket, api);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new AgentAlreadyRunningError(path) : err));
    server.listen(path, () => resolve());
  });
  if (process.platform !== 'win32') chmodSync(path, 0o600);
  return {
    close: () =>
      new Promise((resolve) => {
        for (const s of connections) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function serveConnection(socket: net.Socket, api: HcmBridge): void {
  let buffer = '';
  const unsubscribers: Array<() => void> = [];
  socket.setEncoding('utf8');
  const send = (message: WireResponse | WireEvent) => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
  };
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    if (buffer.length > MAX_LINE) {
      socket.destroy();
      return;
    }
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim()) void handleLine(line);
    }
  });
  socket.on('error', () => undefined);
  socket.on('close', () => unsubscribers.forEach((u) => u()));

  async function handleLine(line: string): Promise<void> {
    let request: WireRequest;
    try {
      request = JSON.parse(line) as WireRequest;
    } catch {
      send({ id: -1, ok: false, error: 'request is not JSON' });
      return;
    }
    const id = typeof request.id === 'number' ? request.id : -1;
    const args = Array.isArray(request.args) ? request.args : [];
    if ((request.method as string) === 'subscribe') {
      const wanted = args.filter((e): e is HcmEvent => HCM_EVENTS.includes(e as HcmEvent));
      for (const event of wanted) unsubscribers.push(api.on(event, (payload) => send({ event, payload })));
      send({ id, ok: true, result: wanted });
      return;
    }
    if (!HCM_METHODS.includes(request.method)) {
      send({ id, ok: false, error: `unknown method "${String(request.method).slice(0, 40)}"` });
      return;
    }
    try {
      const fn = api[request.method] as (...a: unknown[]) => Promise<unknown>;
      const result = await fn.apply(api, args);
      send({ id, ok: true, result: result ?? null });
    } catch (err) {
      send({ id, ok: false, error: (err as Error).message, code: (err as { code?: string }).code });
    }
  }
}

export class ControlClient {
  private nextId = 1;
  private buffer = '';
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Set<(event: HcmEvent, payload: unknown) => void>();

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('close', () => {
      for (const p of this.pending.values()) p.reject(new Error('the agent closed the control connection'));
      this.pending.clear();
    });
    socket.on('error', () => undefined);
  }

  /** Connects to a running agent; undefined when none is running. Throws when the socket is not this user's. */
  static async connect(path: string): Promise<ControlClient | undefined> {
    if (!checkControlSocket(path)) return undefined;
    return new Promise((resolve) => {
      const socket = net.connect(path);
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        resolve(new ControlClient(socket));
      });
      socket.once('error', () => resolve(undefined));
    });
  }

  call<M extends HcmMethod>(method: M, ...args: Parameters<HcmBridge[M]>): ReturnType<HcmBridge[M]> {
    return this.request(method, args) as ReturnType<HcmBridge[M]>;
  }

  async subscribe(events: HcmEvent[], listener: (event: HcmEvent, payload: unknown) => void): Promise<void> {
    this.listeners.add(listener);
    await this.request('subscribe', events);
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }

  private request(method: string, args: unknown[]): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.write(`${JSON.stringify({ id, method, args })}\n`);
    });
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (!line.trim()) continue;
      const message = JSON.parse(line) as WireResponse | WireEvent;
      if ('event' in message) {
        for (const l of this.listeners) l(message.event, message.payload);
        continue;
      }
      const p = this.pending.get(message.id);
      if (!p) continue;
      this.pending.delete(message.id);
      if (message.ok) p.resolve(message.result);
      else p.reject(Object.assign(new Error(message.error), { code: message.code }));
    }
  }
}
