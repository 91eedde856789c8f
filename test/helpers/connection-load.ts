import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { connectTcp, echoRoundTrip, firstDifference } from './tunnel.js';

/**
 * Steady traffic through a forwarder (`hcm connect`) to an echo server, for restarts that must not
 * drop a connection: `short` workers open connections back to back (one echo each), `held` workers
 * open one, echo, hold it `holdMs`, and echo again. Every failure is kept with its worker and round.
 */
export interface ConnectionLoad {
  /** Stops opening connections and waits for the ones under way. */
  stop(): Promise<{ opened: number; held: number; failures: string[] }>;
}

export function startConnectionLoad(port: number, options: { short: number; held: number; holdMs: number }): ConnectionLoad {
  const failures: string[] = [];
  let opened = 0;
  let held = 0;
  let running = true;

  const worker = async (name: string, once: (s: net.Socket) => Promise<void>) => {
    for (let i = 0; running; i++) {
      try {
        const s = await connectTcp(port);
        try {
          await once(s);
        } finally {
          s.destroy();
        }
      } catch (err) {
        failures.push(`${name}.${i}: ${(err as Error).message}`);
      }
    }
  };
  const short = async (s: net.Socket) => {
    await echoOnce(s, 4096);
    opened++;
  };
  const hold = async (s: net.Socket) => {
    await echoOnce(s, 1024);
    await new Promise((r) => setTimeout(r, options.holdMs));
    await echoOnce(s, 64 * 1024);
    held++;
  };
  const workers = Promise.all([
    ...Array.from({ length: options.short }, (_, w) => worker(`short ${w}`, short)),
    ...Array.from({ length: options.held }, (_, w) => worker(`held ${w}`, hold)),
  ]);
  return {
    stop: async () => {
      running = false;
      await workers;
      return { opened, held, failures };
    },
  };
}

/** One echo through the tunnel on an open socket; throws with what went wrong. */
export async function echoOnce(socket: net.Socket, size: number): Promise<void> {
  const payload = randomBytes(size);
  const back = await echoRoundTrip(socket, payload);
  const at = firstDifference(back, payload);
  if (at !== -1) throw new Error(`echo differs at byte ${at}`);
}
