import { spawn } from 'node:child_process';
import net from 'node:net';

/** Plain TCP servers used as Hybrid Connection endpoints. */

export interface TcpServer {
  port: number;
  connections: number;
  close(): Promise<void>;
}

async function listen(server: net.Server, port = 0, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as net.AddressInfo).port;
}

function wrap(server: net.Server, port: number, sockets: Set<net.Socket>, counter: { n: number }): TcpServer {
  return {
    port,
    get connections() {
      return counter.n;
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Echoes every byte back. With allowHalfOpen it answers after the client's FIN too. */
export async function startEchoServer(options: { host?: string; port?: number } = {}): Promise<TcpServer> {
  const sockets = new Set<net.Socket>();
  const counter = { n: 0 };
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    counter.n++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.pipe(s);
  });
  return wrap(server, await listen(server, options.port, options.host), sockets, counter);
}

/** Runs `onSocket` for each connection (for custom endpoint behaviour in a test). */
export async function startTcpServer(
  onSocket: (s: net.Socket) => void,
  options: { host?: string; port?: number; allowHalfOpen?: boolean } = {},
): Promise<TcpServer> {
  const sockets = new Set<net.Socket>();
  const counter = { n: 0 };
  const server = net.createServer({ allowHalfOpen: options.allowHalfOpen ?? false }, (s) => {
    counter.n++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    onSocket(s);
  });
  return wrap(server, await listen(server, options.port, options.host), sockets, counter);
}

/**
 * A listening port that never completes a TCP handshake, like a host behind a firewall that drops
 * packets: a child process listens with a backlog of 1 and then blocks its event loop, so it never
 * accepts; once a few connections fill its accept queue Linux drops every further SYN (other
 * kernels may refuse instead, which the connect-timeout test would report).
 */
export async function startUnansweringPort(): Promise<{ port: number; close(): Promise<void> }> {
  const script = `
    const net = require('node:net');
    const server = net.createServer();
    server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      process.stdout.write(server.address().port + '\\n', () => {
        // Blocked, but not forever: it leaves once the test process that started it is gone.
        const cell = new Int32Array(new SharedArrayBuffer(4));
        for (;;) {
          Atomics.wait(cell, 0, 0, 1000);
          try { process.kill(process.ppid, 0); } catch { process.exit(0); }
        }
      });
    });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`unanswering listener exited (${code})`)));
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  // Fill the accept queue; these fillers stay pending or queued until the child is killed.
  const fillers = Array.from({ length: 4 }, () => net.connect(port, '127.0.0.1').on('error', () => undefined));
  await new Promise((r) => setTimeout(r, 300));
  return {
    port,
    close: async () => {
      for (const f of fillers) f.destroy();
      child.kill('SIGKILL');
    },
  };
}
