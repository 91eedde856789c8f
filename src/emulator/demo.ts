import net from 'node:net';
import { resolveEmulatorConfig } from './config.js';
import { RelayEmulator } from './server.js';

/**
 * The demo behind "Try it with a local relay" and `hcm demo`: a relay emulator on a free loopback
 * port (plain ws://, nothing leaves the machine) with one Hybrid Connection whose endpoint is a
 * built-in echo service, so a new user sees the product work without an Azure account.
 */

export const DEMO_NAMESPACE = 'local-demo';
export const DEMO_HYBRID_CONNECTION = 'echo';

export interface DemoRelay {
  /** Listen connection string, for the agent. */
  listen: string;
  /** Send connection string, for test traffic (what App Service would use). */
  send: string;
  /** host:port of the built-in echo service. */
  endpoint: string;
  /** ws://127.0.0.1:N, for messages to the user. */
  relayAddress: string;
  stop(): Promise<void>;
}

/** A TCP service that sends back every byte it receives: what the demo's Hybrid Connection points at. */
export async function startEchoService(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export async function startDemoRelay(
  log: (level: 'info' | 'warn' | 'error', message: string) => void = () => undefined,
): Promise<DemoRelay> {
  const echo = await startEchoService();
  const endpoint = `127.0.0.1:${echo.port}`;
  const config = resolveEmulatorConfig({
    namespaces: [{ name: DEMO_NAMESPACE, hybridConnections: [{ name: DEMO_HYBRID_CONNECTION, endpoint }] }],
  });
  // No idle drop: the demo should stay green while a new user looks at it.
  const emulator = new RelayEmulator({ plain: true, port: 0, host: '127.0.0.1', config, idleTimeoutMs: 0, log });
  let ready;
  try {
    ready = await emulator.start();
  } catch (err) {
    await echo.close();
    throw err;
  }
  const strings = ready.hybridConnections[DEMO_HYBRID_CONNECTION]!;
  return {
    listen: strings.listen,
    send: strings.send,
    endpoint,
    relayAddress: `ws://127.0.0.1:${ready.port}`,
    stop: async () => {
      await emulator.stop();
      await echo.close();
    },
  };
}
