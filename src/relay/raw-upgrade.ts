import type { Socket } from 'node:net';
import { connectPooled } from './pooled-reads.js';
import { noteRelayDate } from './clock-skew.js';
import { RelayError, RelayHandshakeError, isStandardReason, refusalDescription } from './errors.js';
import { networkError } from './runtime-info.js';
import { type ConnectOptions, resumingConnect } from './transport.js';

/**
 * A WebSocket upgrade written and read by hand on a fresh socket. Tunnels are opened at a high
 * rate and Node's HTTP client machinery (ClientRequest, agent, parser) was the largest cost of
 * each one; the handshake itself is one fixed request and one response head.
 */

export interface UpgradeResult {
  socket: Socket;
  head: Buffer;
  headers: Record<string, string>;
}

const MAX_HEAD = 16 * 1024;
const MAX_BODY = 4 * 1024;
const BODY_WAIT_MS = 2_000;

/** Splits `ws[s]://authority/rest` without re-serialising it: the request target goes out as given. */
export function splitAddress(url: string): { secure: boolean; authority: string; host: string; port: number; target: string } {
  // The request line is written from this text: a space, CR or LF in it would end the line early
  // and let the rest become headers or a body of the upgrade request.
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f]/.test(url)) throw new RelayError('E_PROTOCOL', 'relay address contains spaces or control characters');
  const m = /^(wss?):\/\/([^/?#]+)([^#]*)/i.exec(url);
  if (!m) throw new RelayError('E_PROTOCOL', 'relay address is not a ws:// or wss:// URL');
  const secure = m[1]!.toLowerCase() === 'wss';
  const authority = m[2]!;
  const hp = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(authority);
  if (!hp) throw new RelayError('E_PROTOCOL', `relay address has an invalid host "${authority}"`);
  const target = m[3] || '/';
  return {
    secure,
    authority,
    host: ownCopy((hp[1] ?? hp[2])!),
    port: hp[3] ? Number(hp[3]) : secure ? 443 : 80,
    target: target.startsWith('/') ? target : `/${target}`,
  };
}

/**
 * A copy of `text` that shares no memory with the string it was cut from. V8 makes a substring
 * of 13 characters or more a view of its parent, and the socket keeps its host for its whole
 * life: a rendezvous host cut from the accept address would keep that address (with its token,
 * several hundred bytes in Azure) alive for as long as the tunnel is open.
 */
function ownCopy(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

function assertHeaderSafe(name: string, value: string): void {
  if (/[\r\n\0]/.test(name) || /[\r\n\0]/.test(value))
    throw new RelayError('E_PROTOCOL', `header ${name.replace(/[^\x20-\x7e]/g, '?')} contains a line break`);
}

export function rawUpgrade(
  url: string,
  headers: Record<string, string>,
  connect: ConnectOptions,
  timeoutMs: number,
): Promise<UpgradeResult> {
  let parts: ReturnType<typeof splitAddress>;
  try {
    parts = splitAddress(url);
  } catch (err) {
    return Promise.reject(err); // callers chain on the promise: no synchronous throw
  }
  const { secure, authority, host, port, target } = parts;
  const lines = [`GET ${target} HTTP/1.1`, `Host: ${authority}`];
  for (const [name, value] of Object.entries(headers)) {
    assertHeaderSafe(name, value);
    lines.push(`${name}: ${value}`);
  }
  const request = `${lines.join('\r\n')}\r\n\r\n`;
  return new Promise((resolve, reject) => {
    const socket: Socket = secure
      ? resumingConnect({ host, port, secureContext: connect.secureContext, lookup: connect.lookup }, true)
      : connectPooled({ host, port, lookup: connect.lookup });
    let settled = false;
    let buffered: Buffer = Buffer.alloc(0);
    const timer = setTimeout(
      () => fail(new RelayError('E_TIMEOUT', `relay handshake timed out after ${Math.round(timeoutMs / 1000)} s`)),
      timeoutMs,
    );
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once(secure ? 'secureConnect' : 'connect', () => socket.write(request));
    socket.on('error', (err) => fail(err instanceof RelayError ? err : networkError(url, err)));
    socket.on('close', () => fail(new RelayError('E_NETWORK', 'the relay closed the connection during the handshake')));
    const onData = (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buffered.length > MAX_HEAD) fail(new RelayError('E_PROTOCOL', 'the relay sent an oversized response head'));
        return;
      }
      socket.off('data', onData);
      const head = buffered.subarray(0, end).toString('latin1').split('\r\n');
      const status = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(head[0] ?? '');
      if (!status) return fail(new RelayError('E_PROTOCOL', 'the relay did not answer with HTTP'));
      const parsed: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) parsed[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      noteRelayDate(host, parsed.date);
      const rest = buffered.subarray(end + 4);
      const code = Number(status[1]);
      if (code === 101) {
        settled = true;
        clearTimeout(timer);
        // Hold further bytes in the socket until the caller attaches its reader (it resumes).
        socket.pause();
        socket.removeAllListeners('error');
        socket.removeAllListeners('close');
        resolve({ socket, head: rest, headers: parsed });
        return;
      }
      void readRefusal(socket, rest, parsed, code, status[2] ?? '').then(fail);
    };
    socket.on('data', onData);
  });
}

/** Reads the refusal's body only when the reason phrase does not describe it (errors.ts). */
function readRefusal(
  socket: Socket,
  first: Buffer,
  headers: Record<string, string>,
  status: number,
  reason: string,
): Promise<RelayHandshakeError> {
  if (!isStandardReason(status, reason)) return Promise.resolve(new RelayHandshakeError(status, reason));
  const length = Number(headers['content-length'] ?? MAX_BODY);
  return new Promise((resolve) => {
    let body: Buffer = first;
    const done = () => {
      clearTimeout(timer);
      const text = body.subarray(0, Math.min(length, MAX_BODY)).toString('utf8').trim();
      resolve(new RelayHandshakeError(status, refusalDescription(status, reason, text)));
    };
    const timer = setTimeout(done, BODY_WAIT_MS);
    if (body.length >= Math.min(length, MAX_BODY)) return done();
    socket.on('data', (c: Buffer) => {
      body = Buffer.concat([body, c]);
      if (body.length >= Math.min(length, MAX_BODY)) done();
    });
    socket.once('end', done);
    socket.once('close', done);
  });
}
