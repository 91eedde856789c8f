/**
 * The contract over Electron IPC, main side. One `ipcMain.handle('hcm:<method>')` per method;
 * each checks who is asking and what it passes before the service sees the call. Replies are
 * envelopes (never rejections) so the renderer gets our message, not Electron's
 * "Error invoking remote method …" wrapping.
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { HCM_EVENTS, HCM_METHODS, type HcmApi, type HcmHost, eventChannel, methodChannel } from '../shared/api.js';
import { type CallReply, dispatchCall } from '../shared/dispatch.js';
import { isRendererUrl } from './renderer-protocol.js';

export type IpcReply = CallReply;

/** Calls count only from the main frame of our own window showing our own renderer. */
export function isTrustedSender(event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>, trusted: () => WebContents | null): boolean {
  const own = trusted();
  if (!own || event.sender !== own) return false;
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null) return false;
  return isRendererUrl(frame.url);
}

export function registerIpcHandlers(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>,
  api: HcmApi,
  isTrusted: (event: IpcMainInvokeEvent) => boolean,
  log: (message: string) => void = () => undefined,
): () => void {
  for (const method of HCM_METHODS) {
    ipcMain.handle(methodChannel(method), async (event, ...args: unknown[]): Promise<IpcReply> => {
      if (!isTrusted(event)) {
        log(`refused IPC ${method} from an untrusted sender (${event.senderFrame?.url ?? 'unknown frame'})`);
        return { ok: false, error: 'refused: this window may not call HCM', code: 'E_REFUSED' };
      }
      return dispatchCall(api, method, args, { onInternalError: (m, err) => log(`${m} failed unexpectedly: ${errorStack(err)}`) });
    });
  }
  return () => {
    for (const method of HCM_METHODS) ipcMain.removeHandler(methodChannel(method));
  };
}

/** Pushes every contract event to the window, while it exists. */
export function forwardEvents(hcm: Pick<HcmHost, 'on'>, target: () => Pick<WebContents, 'send' | 'isDestroyed'> | null): () => void {
  const offs = HCM_EVENTS.map((event) =>
    hcm.on(event, (payload) => {
      const wc = target();
      if (wc && !wc.isDestroyed()) wc.send(eventChannel(event), payload);
    }),
  );
  return () => offs.forEach((off) => off());
}

function errorStack(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
