/**
 * Errors from the host carry the contract's code (src/shared/errors.ts): the WebSocket host and
 * the Electron preload attach it to the rejected Error. The UI picks its headings by code, never
 * by the wording; the message stays the body.
 */
import { ERROR_TITLES, type HcmErrorCode, errorMessage, isHcmErrorCode } from '../shared/errors.js';

export type CodedError = Error & { code?: HcmErrorCode };

/** An Error with the code of the reply, when the reply had a known one. */
export function codedError(message: string, code: unknown): CodedError {
  const err: CodedError = new Error(message);
  if (isHcmErrorCode(code)) err.code = code;
  return err;
}

/** The contract's code of a rejection, or null when it carries none (an older host, a browser error). */
export function codeOf(err: unknown): HcmErrorCode | null {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return isHcmErrorCode(code) ? code : null;
}

/** The message of anything thrown. */
export function messageOf(err: unknown): string {
  return errorMessage(err);
}

/** The heading for an error: the code's title when there is a code, else what the caller says failed. */
export function errorHeading(err: unknown, fallback: string): string {
  const code = codeOf(err);
  return code ? ERROR_TITLES[code] : fallback;
}
