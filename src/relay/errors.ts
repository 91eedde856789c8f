import type * as httpModule from 'node:http';
import { createRequire } from 'node:module';

// Required, not imported: an ES import of node:http reads every export, and its WebSocket getter
// loads Node's fetch library (undici), ~20 ms of every hcm command (all of them reach this file).
const { STATUS_CODES } = createRequire(import.meta.url)('node:http') as typeof httpModule;

/**
 * Errors with stable codes, so callers (CLI exit paths, UI, tests) branch on `code`
 * instead of parsing messages. Messages are written for admins and never contain secrets.
 */
export const RELAY_ERROR_CODES = [
  'E_CONNECTION_STRING',
  'E_ENDPOINT',
  'E_ENDPOINT_CONNECT',
  'E_SAS',
  'E_RUNTIME_INFO',
  'E_NOT_FOUND',
  'E_UNAUTHORIZED',
  'E_FORBIDDEN',
  'E_NO_LISTENERS',
  'E_REJECTED',
  'E_TIMEOUT',
  'E_SERVICE',
  'E_NETWORK',
  'E_PROTOCOL',
] as const;

/** A subset of the contract's codes (src/shared/errors.ts; a unit test checks it): relay imports nothing outside relay. */
export type RelayErrorCode = (typeof RELAY_ERROR_CODES)[number];

export class RelayError extends Error {
  readonly code: RelayErrorCode;
  constructor(code: RelayErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RelayError';
    this.code = code;
  }
}

/** A failed WebSocket/HTTP handshake with the relay, carrying the service's own status and text. */
export class RelayHandshakeError extends RelayError {
  readonly status: number;
  readonly description: string;
  readonly trackingId: string | undefined;
  constructor(status: number, description: string) {
    const shown = quoteRelayText(description);
    super(codeForStatus(status, description), `relay answered ${status}: ${shown || '(no description)'}`);
    this.name = 'RelayHandshakeError';
    this.status = status;
    this.description = shown;
    this.trackingId = /TrackingId:([^\s,;]{1,100})/i.exec(description)?.[1];
  }
}

function codeForStatus(status: number, description: string): RelayErrorCode {
  if (status === 404) return /no listeners/i.test(description) ? 'E_NO_LISTENERS' : 'E_NOT_FOUND';
  if (status === 401) return 'E_UNAUTHORIZED';
  if (status === 403) return 'E_FORBIDDEN';
  if (status === 408 || status === 504) return 'E_TIMEOUT';
  if (status >= 500 && status !== 502 && status !== 503) return 'E_SERVICE';
  return 'E_REJECTED';
}

/**
 * The relay puts its description (with a TrackingId) in the HTTP reason phrase. A missing or
 * standard phrase ("Not Found" on a 404) says nothing, and then the response body is the text.
 */
export function isStandardReason(status: number, reason: string | undefined): boolean {
  return !reason || reason.toLowerCase() === (STATUS_CODES[status] ?? '').toLowerCase();
}

export function refusalDescription(status: number, reason: string | undefined, body: string): string {
  return isStandardReason(status, reason) ? body || reason || '' : reason!;
}

export const MAX_QUOTED_TEXT = 300;

/**
 * A text the relay (or anything on the way) sent, made fit to quote in a message, a log line or
 * a status: control characters become spaces, and a long text is cut, saying how much was cut.
 */
export function quoteRelayText(text: string, max = MAX_QUOTED_TEXT): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\x00-\x1f\x7f]+/g, ' ');
  if (clean.length <= max) return clean;
  return `${clean.slice(0, max)}… (${clean.length - max} more characters not shown)`;
}
