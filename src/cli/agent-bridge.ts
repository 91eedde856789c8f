/**
 * The contract of an agent that is already running on this machine (the desktop app or
 * `hcm run`), reached through its local control socket, as an HcmBridge: lets `hcm ui` show the
 * running agent instead of refusing to start a second one.
 */
import net from 'node:net';
import { ControlClient } from '../core/control-socket.js';
import { HCM_EVENTS, HCM_METHODS, type HcmBridge, type HcmEvent, type HcmEvents } from '../shared/api.js';
import { EventListeners } from '../shared/event-listeners.js';

export interface RunningAgent {
  bridge: HcmBridge;
  /** Resolves when the agent goes away (stopped or crashed). */
  gone: Promise<void>;
  close(): void;
}

export async function connectToRunningAgent(socketPath: string): Promise<RunningAgent | null> {
  const client = await ControlClient.connect(socketPath);
  if (!client) return null;
  const listeners = new EventListeners();
  await client.subscribe([...HCM_EVENTS], (event, payload) => listeners.emit(event, payload));
  // A second, idle connection whose only job is to notice when the agent's end closes.
  const watch = net.connect(socketPath);
  const gone = new Promise<void>((resolve) => {
    watch.once('close', () => resolve());
    watch.once('error', () => resolve());
  });
  const methods = Object.fromEntries(
    HCM_METHODS.map((m) => [m, (...args: unknown[]) => (client.call as (method: string, ...a: unknown[]) => Promise<unknown>)(m, ...args)]),
  );
  const bridge = {
    ...methods,
    on: <E extends HcmEvent>(event: E, listener: (payload: HcmEvents[E]) => void) => listeners.on(event, listener),
  } as unknown as HcmBridge;
  return {
    bridge,
    gone,
    close: () => {
      watch.destroy();
      client.close();
    },
  };
}
