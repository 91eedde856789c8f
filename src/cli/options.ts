import type { LogFormat } from '../core/logger.js';
import type { LogLevel } from '../shared/api.js';
import { CliError } from './exit.js';

export function parseIntOption(value: unknown, name: string, min: number, max: number): number {
  const text = String(value ?? '');
  if (!/^\d+$/.test(text)) throw new CliError(`${name} must be a whole number, not "${text}"`, 'E_USAGE');
  const n = Number(text);
  if (n < min || n > max) throw new CliError(`${name} must be between ${min} and ${max}`, 'E_USAGE');
  return n;
}

export function parseLogLevel(text: string): LogLevel {
  if (!['debug', 'info', 'warn', 'error'].includes(text)) throw new CliError(`--log-level must be debug, info, warn or error`, 'E_USAGE');
  return text as LogLevel;
}

export function parseLogFormat(text: string): LogFormat {
  if (text !== 'text' && text !== 'json' && text !== 'journald')
    throw new CliError('--log-format must be text, json or journald', 'E_USAGE');
  return text;
}
