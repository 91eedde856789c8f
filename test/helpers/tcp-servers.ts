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
export async function startTcpServer(onSocket: (s: net.Socket) => void, options: { host?: string; port?: number; allowHalfOpen?: boolean } = {}): Promise<TcpServer> {
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
