/**
 * The one dispatcher behind every transport (Electron IPC, the browser host's WebSocket, the local
 * control socket): method known, arguments checked, the call made, the reply enveloped, errors
 * turned into `{ ok: false, error, code }`. It never throws, whatever arrives.
 */
import { HCM_EVENTS, type HcmApi, type HcmEvent, type WireResponse } from './api.js';
import { isHcmMethod, validateArgs } from './api-args.js';
import { HcmError, type HcmErrorCode, errorCode, errorMessage } from './errors.js';

export type CallReply = { ok: true; result: unknown } | { ok: false; error: string; code: HcmErrorCode };

export interface DispatchOptions {
  /** Told about errors that were not raised on purpose (E_INTERNAL), with the error, for the log. */
  onInternalError?: (method: string, err: unknown) => void;
}

export interface WireOptions extends DispatchOptions {
  /** Handles the `subscribe` request (control socket); absent = the transport pushes every event. */
  subscribe?: (events: HcmEvent[]) => void;
}

export async function dispatchCall(api: HcmApi, method: unknown, args: unknown, options: DispatchOptions = {}): Promise<CallReply> {
  if (!isHcmMethod(method)) return failure(new HcmError('E_NO_METHOD', `unknown method ${describeValue(method)}`));
  let checked: unknown[];
  try {
    checked = validateArgs(method, args);
  } catch (err) {
    return failure(err);
  }
  try {
    const call = api[method] as (...a: unknown[]) => Promise<unknown>;
    return { ok: true, result: (await call.apply(api, checked)) ?? null };
  } catch (err) {
    if (errorCode(err) === 'E_INTERNAL') options.onInternalError?.(method, err);
    return failure(err);
  }
}

/** One message of the WebSocket or one line of the control socket in, its reply out. */
export async function answerWireMessage(api: HcmApi, text: string, options: WireOptions = {}): Promise<WireResponse> {
  let request: unknown;
  try {
    request = JSON.parse(text);
  } catch {
    return reply(-1, failure(new HcmError('E_BAD_REQUEST', 'the request is not JSON')));
  }
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    return reply(-1, failure(new HcmError('E_BAD_REQUEST', 'the request must be a JSON object {"id", "method", "args"}')));
  }
  const { id, method, args } = request as { id?: unknown; method?: unknown; args?: unknown };
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) {
    return reply(-1, failure(new HcmError('E_BAD_REQUEST', 'the request needs a whole-number "id"')));
  }
  if (method === 'subscribe' && options.subscribe) {
    const events = subscription(args);
    if (!events) return reply(id, failure(new HcmError('E_ARGS', `subscribe: arguments must be event names (${HCM_EVENTS.join(', ')})`)));
    options.subscribe(events);
    return reply(id, { ok: true, result: events });
  }
  return reply(id, await dispatchCall(api, method, args, options));
}

function subscription(args: unknown): HcmEvent[] | null {
  if (!Array.isArray(args) || args.length > HCM_EVENTS.length) return null;
  if (!args.every((e) => (HCM_EVENTS as readonly unknown[]).includes(e))) return null;
  return [...new Set(args as HcmEvent[])];
}

function reply(id: number, r: CallReply): WireResponse {
  return r.ok ? { id, ok: true, result: r.result } : { id, ok: false, error: r.error, code: r.code };
}

function failure(err: unknown): CallReply {
  return { ok: false, error: errorMessage(err), code: errorCode(err) };
}

function describeValue(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value;
  return text;
}
