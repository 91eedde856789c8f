import { EventEmitter } from 'node:events';
import { type WriteStream, createWriteStream, existsSync, mkdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
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
  private stream: WriteStream | undefined;
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
    const stream = this.stream;
    this.stream = undefined;
    return new Promise((resolve) => (stream ? stream.end(resolve) : resolve()));
  }

  private openFile(): void {
    const dir = this.options.dir!;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, LOG_FILE);
    this.fileBytes = existsSync(file) ? statSync(file).size : 0;
    this.stream = createWriteStream(file, { flags: 'a', mode: 0o600 });
    this.stream.on('error', () => {
      this.stream = undefined; // a full disk must not take the agent down
    });
  }

  private writeFile(text: string): void {
    if (!this.stream) return;
    const max = this.options.maxFileBytes ?? 5 * 1024 * 1024;
    if (this.fileBytes + text.length > max) this.rotate();
    this.stream?.write(text);
    this.fileBytes += Buffer.byteLength(text);
  }

  private rotate(): void {
    const dir = this.options.dir!;
    const keep = this.options.maxFiles ?? 5;
    this.stream?.end();
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
