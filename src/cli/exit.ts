import { HcmError, type HcmErrorCode } from '../shared/errors.js';

/**
 * Exit statuses of `hcm`, chosen by error code (never by the error's class):
 * 0 done · 1 the operation failed · 2 the command line was wrong · 3 it needs a running agent and
 * none runs · 10 `hcm update --check` found a newer version (not an error: for scripts).
 */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_NO_AGENT = 3;
export const EXIT_UPDATE_AVAILABLE = 10;

let commandStatus: number | null = null;

/** A command that succeeded with a status of its own (`hcm update --check`: 10 when an update exists). */
export function setExitStatus(code: number): void {
  commandStatus = code;
}

/** The status of a command that returned without an error: its own, else 0. */
export function successStatus(): number {
  const code = commandStatus ?? EXIT_OK;
  commandStatus = null;
  return code;
}

const SPECIAL: Partial<Record<HcmErrorCode, number>> = {
  E_USAGE: EXIT_USAGE,
  E_ARGS: EXIT_USAGE,
  E_NO_AGENT: EXIT_NO_AGENT,
};

export function exitCodeFor(code: HcmErrorCode): number {
  return SPECIAL[code] ?? EXIT_FAILURE;
}

/** An error of the CLI itself, with its code; its message is shown as is (no stack trace). */
export class CliError extends HcmError {
  constructor(message: string, code: HcmErrorCode) {
    super(code, message);
    this.name = 'CliError';
  }
}
