/**
 * The agent already running for this configuration (the desktop app, `hcm run`, `hcm ui` or
 * `hcm demo`), reached through its local control socket: the contract's methods, and, when asked
 * for, its events and a promise that settles when it goes away (what `hcm ui` needs to show it).
 */
import net from 'node:net';
import { ControlClient } from './control-socket.js';
import { hcmPaths } from './paths.js';
import { HCM_EVENTS, HCM_METHODS, type HcmHost, type HcmEvent, type HcmEvents } from '../shared/api.js';
import { EventListeners } from '../shared/event-listeners.js';

export interface RunningAgent {
  /** The contract; `on` delivers events only when connected with `events: true`. */
  host: HcmHost;
  /** Settles when the agent goes away (stopped or crashed); only with `events: true`. */
  gone: Promise<void>;
  close(): void;
}

export async function connectRunningAgent(options: { socketPath?: string; events?: boolean } = {}): Promise<RunningAgent | null> {
  const socketPath = options.socketPath ?? hcmPaths().controlSocket;
  const client = await ControlClient.connect(socketPath);
  if (!client) return null;
  const listeners = new EventListeners();
  let watch: net.Socket | undefined;
  let gone: Promise<void> = new Promise(() => undefined);
  if (options.events) {
    await client.subscribe([...HCM_EVENTS], (event, payload) => listeners.emit(event, payload));
    // A second, idle connection whose only job is to notice when the agent's end closes.
    const socket = net.connect(socketPath);
    watch = socket;
    gone = new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.once('error', () => resolve());
    });
  }
  const methods = Object.fromEntries(
    HCM_METHODS.map((m) => [m, (...args: unknown[]) => (client.call as (method: string, ...a: unknown[]) => Promise<unknown>)(m, ...args)]),
  );
  const host = {
    ...methods,
    on: <E extends HcmEvent>(event: E, listener: (payload: HcmEvents[E]) => void) => listeners.on(event, listener),
  } as unknown as HcmHost;
  return {
    host,
    gone,
    close: () => {
      watch?.destroy();
      client.close();
    },
  };
}
