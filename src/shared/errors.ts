/**
 * The error model of the contract: every error HCM raises for a reason carries one of these codes,
 * so each face decides by code (the CLI its exit status, the UI its heading), never by the class or
 * the wording. Codes cross every transport in `WireResponse.code`. No runtime dependencies.
 */

export const HCM_ERROR_CODES = [
  // The request itself (any transport)
  'E_BAD_REQUEST',
  'E_NO_METHOD',
  'E_ARGS',
  'E_REFUSED',
  'E_UNAVAILABLE',
  // This machine: configuration, folders, the running agent
  'E_CONFIG',
  'E_FOLDER',
  'E_AGENT_RUNNING',
  'E_NO_AGENT',
  'E_SOCKET_UNTRUSTED',
  'E_LISTEN',
  // What was asked of the service
  'E_NO_CONNECTION',
  'E_AMBIGUOUS',
  'E_DUPLICATE',
  'E_INVALID',
  'E_UNSUPPORTED',
  'E_TEST_FAILED',
  'E_UPDATE',
  // The command line
  'E_USAGE',
  // The endpoint and the relay (src/relay/errors.ts raises the relay's codes)
  'E_ENDPOINT_CONNECT',
  'E_CONNECTION_STRING',
  'E_ENDPOINT',
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
  // Anything not raised on purpose: a defect to report
  'E_INTERNAL',
] as const;

export type HcmErrorCode = (typeof HCM_ERROR_CODES)[number];

/** A short heading for people, per code: the UI shows it above the message. */
export const ERROR_TITLES: Record<HcmErrorCode, string> = {
  E_BAD_REQUEST: 'Malformed request',
  E_NO_METHOD: 'Unknown request',
  E_ARGS: 'Invalid request',
  E_REFUSED: 'Request refused',
  E_UNAVAILABLE: 'Agent not reachable',
  E_CONFIG: 'Configuration cannot be read',
  E_FOLDER: 'Folder cannot be used',
  E_AGENT_RUNNING: 'An agent is already running',
  E_NO_AGENT: 'No agent is running',
  E_SOCKET_UNTRUSTED: 'Control socket not trusted',
  E_LISTEN: 'Port not available',
  E_NO_CONNECTION: 'No such connection',
  E_AMBIGUOUS: 'Name matches several connections',
  E_DUPLICATE: 'Already added',
  E_INVALID: 'Not accepted',
  E_UNSUPPORTED: 'Not available here',
  E_TEST_FAILED: 'Test found a problem',
  E_UPDATE: 'Update failed',
  E_USAGE: 'Wrong command line',
  E_ENDPOINT_CONNECT: 'Endpoint not reachable',
  E_CONNECTION_STRING: 'Connection string not valid',
  E_ENDPOINT: 'Endpoint not valid',
  E_SAS: 'Token not valid',
  E_RUNTIME_INFO: 'Relay answer not understood',
  E_NOT_FOUND: 'Hybrid Connection not found',
  E_UNAUTHORIZED: 'Key refused',
  E_FORBIDDEN: 'Not allowed by the relay',
  E_NO_LISTENERS: 'No listener online',
  E_REJECTED: 'Connection rejected',
  E_TIMEOUT: 'Timed out',
  E_SERVICE: 'Relay service error',
  E_NETWORK: 'Relay not reachable',
  E_PROTOCOL: 'Relay broke the protocol',
  E_INTERNAL: 'Unexpected error',
};

export function isHcmErrorCode(value: unknown): value is HcmErrorCode {
  return typeof value === 'string' && (HCM_ERROR_CODES as readonly string[]).includes(value);
}

/** An error raised on purpose: a code for programs, a message for people (never a secret). */
export class HcmError extends Error {
  constructor(
    readonly code: HcmErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HcmError';
  }
}

/** The code of any thrown value: its own when it is one of ours, else E_INTERNAL. */
export function errorCode(err: unknown): HcmErrorCode {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return isHcmErrorCode(code) ? code : 'E_INTERNAL';
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
