import { EventEmitter } from 'node:events';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { LogEntry, LogLevel } from '../shared/api.js';

/**
 * Log lines go to a ring buffer (for the UI and `hcm logs`), optionally to stderr, and to
 * size-rotated files. Everything passes through `redactSecrets` first: keys and tokens must
 * not end up in logs even when an error message carries them.
 */

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  level?: LogLevel;
  stderr?: boolean;
  /** Directory for hcm.log, hcm.log.1, …; undefined = no files. */
  dir?: string;
  maxFileBytes?: number;
  maxFiles?: number;
  ringSize?: number;
}

export const LOG_FILE = 'hcm.log';

export function redactSecrets(text: string): string {
  return text
    .replace(/SharedAccessSignature\s+sr=[^\s"';]*/gi, 'SharedAccessSignature <redacted>')
    .replace(/(SharedAccessKey\s*=\s*)[^;"'\s]+/gi, '$1<redacted>')
    .replace(/(SharedAccessSignature\s*=\s*)[^;"'\s]+/gi, '$1<redacted>')
    .replace(/([?&]sb-hc-token=)[^&\s"']+/gi, '$1<redacted>')
    .replace(/([?&\s]sig=)[^&\s"']+/gi, '$1<redacted>');
}

export class Logger extends EventEmitter<{ entry: [LogEntry] }> {
  private seq = 0;
  private readonly ring: LogEntry[] = [];
  private readonly ringSize: number;
  private level: number;
  /** Synchronous appends: a line is on disk before the next one, even in a crash or a burst. */
  private fd: number | undefined;
  private fileBytes = 0;

  constructor(private readonly options: LoggerOptions = {}) {
    super();
    this.ringSize = options.ringSize ?? 2000;
    this.level = LEVELS[options.level ?? 'info'];
    if (options.dir) this.openFile();
  }

  setLevel(level: LogLevel): void {
    this.level = LEVELS[level];
  }

  getLevel(): LogLevel {
    return (Object.keys(LEVELS) as LogLevel[]).find((l) => LEVELS[l] === this.level) ?? 'info';
  }

  debug(message: string, connection?: string): void {
    this.log('debug', message, connection);
  }
  info(message: string, connection?: string): void {
    this.log('info', message, connection);
  }
  warn(message: string, connection?: string): void {
    this.log('warn', message, connection);
  }
  error(message: string, connection?: string): void {
    this.log('error', message, connection);
  }

  log(level: LogLevel, message: string, connection?: string): void {
    if (LEVELS[level] < this.level) return;
    const entry: LogEntry = { seq: ++this.seq, time: new Date().toISOString(), level, message: redactSecrets(message) };
    if (connection) entry.connection = connection;
    this.ring.push(entry);
    if (this.ring.length > this.ringSize) this.ring.splice(0, this.ring.length - this.ringSize);
    const line = formatLogLine(entry);
    if (this.options.stderr) process.stderr.write(`${line}\n`);
    this.writeFile(`${line}\n`);
    this.emit('entry', entry);
  }

  entries(afterSeq = 0, limit = 500): LogEntry[] {
    const newer = this.ring.filter((e) => e.seq > afterSeq);
    return newer.slice(Math.max(0, newer.length - limit));
  }

  close(): Promise<void> {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    return Promise.resolve();
  }

  private openFile(): void {
    const dir = this.options.dir!;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      this.fd = openSync(join(dir, LOG_FILE), 'a', 0o600);
      this.fileBytes = fstatSync(this.fd).size;
    } catch {
      this.fd = undefined; // no log file is better than no agent
    }
  }

  private writeFile(text: string): void {
    if (this.fd === undefined) return;
    const bytes = Buffer.from(text);
    if (this.fileBytes + bytes.length > (this.options.maxFileBytes ?? 5 * 1024 * 1024)) this.rotate();
    if (this.fd === undefined) return;
    try {
      writeSync(this.fd, bytes);
      this.fileBytes += bytes.length;
    } catch {
      // A full disk must not take the agent down; the ring buffer and stderr still work.
    }
  }

  private rotate(): void {
    const dir = this.options.dir!;
    const keep = this.options.maxFiles ?? 5;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    const name = (i: number) => join(dir, i === 0 ? LOG_FILE : `${LOG_FILE}.${i}`);
    try {
      if (existsSync(name(keep - 1))) unlinkSync(name(keep - 1));
      for (let i = keep - 2; i >= 0; i--) if (existsSync(name(i))) renameSync(name(i), name(i + 1));
    } catch {
      // Rotation is best effort; keep logging to the current file.
    }
    this.openFile();
  }
}

export function formatLogLine(entry: LogEntry): string {
  return `${entry.time} ${entry.level.toUpperCase().padEnd(5)} ${entry.connection ? `[${entry.connection}] ` : ''}${entry.message}`;
}
