import { CliError } from './exit.js';

export function parseIntOption(value: unknown, name: string, min: number, max: number): number {
  const text = String(value ?? '');
  if (!/^\d+$/.test(text)) throw new CliError(`${name} must be a whole number, not "${text}"`, 'E_USAGE');
  const n = Number(text);
  if (n < min || n > max) throw new CliError(`${name} must be between ${min} and ${max}`, 'E_USAGE');
  return n;
}
