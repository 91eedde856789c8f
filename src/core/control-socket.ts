import { chmodSync, chownSync, existsSync, lstatSync, unlinkSync } from './fs-sync.js';
import net from 'node:net';
import { dirname } from 'node:path';
import type { HcmHost, HcmEvent, HcmMethod, WireEvent, WireResponse } from '../shared/api.js';
import { answerWireMessage } from '../shared/dispatch.js';
import { HcmError, isHcmErrorCode } from '../shared/errors.js';
import { myGroups } from './admin-group.js';

/**
 * The local control socket of a running agent (desktop app or `hcm run`): the API contract as
 * newline-delimited JSON over a Unix socket (mode 0600, so only this user) or a named pipe.
 * Besides the contract methods, `subscribe` starts a stream of events on the same connection.
 */

const MAX_LINE = 1024 * 1024;

export class AgentAlreadyRunningError extends HcmError {
  constructor(path: string) {
    super(
      'E_AGENT_RUNNING',

      `another HCM agent is already running for this configuration (control socket ${path}); stop it first or use it (hcm list, hcm logs)`,
    );
    this.name = 'AgentAlreadyRunningError';
  }
}

export class UntrustedSocketError extends HcmError {
  constructor(path: string, why: string) {
    super('E_SOCKET_UNTRUSTED', `refusing to use the control socket ${path}: ${why}; nothing was sent to it`);
    this.name = 'UntrustedSocketError';
  }
}

/**
 * Before the CLI sends anything (a connection string, say) it checks that the socket is one this
 * user made: a socket file owned by this user, in a folder only this user can write to. Node has
 * no API for the peer's credentials (SO_PEERCRED), so ownership of the file and folder is the check.
 * A system service's socket (another owner) is accepted when it is shared with a group this user
 * is in (socket 0660 with that group) and sits in a folder of the same owner (or root) that nobody
 * else can write to: only a member of that group could have made such a socket there.
 * Returns false when there is no socket (no agent running).
 */
export function checkControlSocket(path: string, uid: number | null = process.getuid?.() ?? null, groups: number[] = myGroups()): boolean {
  if (process.platform === 'win32' || uid === null) return true;
  let info;
  try {
    info = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new UntrustedSocketError(path, `it cannot be inspected (${(err as NodeJS.ErrnoException).code})`);
  }
  if (!info.isSocket()) throw new UntrustedSocketError(path, 'it is not a socket');
  let folder;
  try {
    folder = lstatSync(dirname(path));
  } catch (err) {
    throw new UntrustedSocketError(path, `its folder cannot be inspected (${(err as NodeJS.ErrnoException).code})`);
  }
  if (info.uid === uid) {
    if (!folder.isDirectory() || folder.uid !== uid || (folder.mode & 0o022) !== 0) {
      throw new UntrustedSocketError(path, `its folder ${dirname(path)} is not a private folder of yours`);
    }
    return true;
  }
  const shared = (info.mode & 0o060) === 0o060 && groups.includes(info.gid);
  if (!shared)
    throw new UntrustedSocketError(path, `it belongs to user ${info.uid}, not to you (${uid}), and is not shared with a group of yours`);
  if (!folder.isDirectory() || (folder.uid !== info.uid && folder.uid !== 0) || (folder.mode & 0o022) !== 0) {
    throw new UntrustedSocketError(path, `its folder ${dirname(path)} is not a folder of the socket's owner that only it can write to`);
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
  /**
   * Frees the socket path at once (a successor agent binds it next) while the answers already
   * written still reach their clients: the hand-over of `hcm run --takeover`.
   */
  release(): Promise<void>;
}

export interface ControlServerOptions {
  onInternalError?: (method: string, err: unknown) => void;
  /** Share the socket with this group (mode 0660): a system service's admins. Default: this user only (0600). */
  group?: number;
}

export async function startControlServer(path: string, api: HcmHost, options: ControlServerOptions = {}): Promise<ControlServer> {
  const onInternalError = options.onInternalError ?? (() => undefined);
  if (process.platform !== 'win32' && existsSync(path)) {
    if (await canConnect(path)) throw new AgentAlreadyRunningError(path);
    try {
      unlinkSync(path); // left behind by an agent that crashed
    } catch (err) {
      // Gone already: an agent handing over (or stopping) removed it meanwhile.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  const connections = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    serveConnection(socket, api, onInternalError);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new AgentAlreadyRunningError(path) : err));
    server.listen(path, () => resolve());
  });
  if (process.platform !== 'win32') {
    if (options.group !== undefined) {
      chownSync(path, process.getuid?.() ?? -1, options.group);
      chmodSync(path, 0o660);
    } else {
      chmodSync(path, 0o600);
    }
  }
  return {
    close: () =>
      new Promise((resolve) => {
        for (const s of connections) s.destroy();
        server.close(() => resolve());
      }),
    release: () =>
      new Promise((resolve) => {
        server.close(() => resolve()); // the path is unlinked here, synchronously
        for (const s of connections) s.end();
      }),
  };
}

/** A client that sends more than this many calls before reading answers waits (its socket is paused). */
const MAX_IN_FLIGHT = 32;
/** Answers a client has not read yet: above the first, no new requests are read; above the second, it is dropped. */
const PAUSE_OUTPUT_BYTES = 1024 * 1024;
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/**
 * One client of the control socket. Whatever it sends, the agent answers or drops it, never
 * crashes: every line goes through the one dispatcher, and what a client may make the agent hold
 * (unanswered calls, unread answers) is bounded.
 */
function serveConnection(socket: net.Socket, api: HcmHost, onInternalError: (method: string, err: unknown) => void): void {
  let buffer = '';
  let inFlight = 0;
  const unsubscribers: Array<() => void> = [];
  socket.setEncoding('utf8');
  const flowControl = () => {
    if (socket.destroyed) return;
    if (socket.writableLength > MAX_OUTPUT_BYTES) {
      socket.destroy(); // it does not read what it asked for
      return;
    }
    if (inFlight >= MAX_IN_FLIGHT || socket.writableLength > PAUSE_OUTPUT_BYTES) socket.pause();
    else socket.resume();
  };
  const send = (message: WireResponse | WireEvent) => {
    if (socket.destroyed) return;
    socket.write(`${JSON.stringify(message)}\n`);
    flowControl();
  };
  socket.on('drain', flowControl);
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim()) handleLine(line);
    }
    if (buffer.length > MAX_LINE) {
      send({ id: -1, ok: false, error: `a request line is longer than ${MAX_LINE} bytes`, code: 'E_BAD_REQUEST' });
      socket.end();
      socket.destroySoon();
    }
  });
  socket.on('error', () => undefined);
  socket.on('close', () => unsubscribers.forEach((u) => u()));

  function handleLine(line: string): void {
    inFlight++;
    flowControl();
    void answerWireMessage(api, line, {
      onInternalError,
      subscribe: (events) => {
        for (const event of events) unsubscribers.push(api.on(event, (payload) => send({ event, payload })));
      },
    })
      .then(send)
      .finally(() => {
        inFlight--;
        flowControl();
      });
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
      for (const p of this.pending.values()) p.reject(new HcmError('E_UNAVAILABLE', 'the agent closed the control connection'));
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

  call<M extends HcmMethod>(method: M, ...args: Parameters<HcmHost[M]>): ReturnType<HcmHost[M]> {
    return this.request(method, args) as ReturnType<HcmHost[M]>;
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
      let message: WireResponse | WireEvent;
      try {
        message = JSON.parse(line) as WireResponse | WireEvent;
      } catch {
        continue; // not from an agent of ours; the socket's owner was checked, so this is a defect, not an attack
      }
      if (typeof message !== 'object' || message === null) continue;
      if ('event' in message) {
        for (const l of this.listeners) l(message.event, message.payload);
        continue;
      }
      const p = this.pending.get(message.id);
      if (!p) continue;
      this.pending.delete(message.id);
      if (message.ok) p.resolve(message.result);
      else p.reject(new HcmError(isHcmErrorCode(message.code) ? message.code : 'E_INTERNAL', String(message.error)));
    }
  }
}
