import { EventEmitter } from 'node:events';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { LogEntry, LogLevel } from '../shared/api.js';

/**
 * Log lines go to a ring buffer (for the UI and `hcm logs`), optionally to stderr, and to
 * size-rotated files. Everything passes through `redactSecrets` first: keys and tokens must
 * not end up in logs even when an error message carries them.
 *
 * Formats (stderr and files alike): `text` (a time, the level, the connection, the message),
 * `json` (one object per line: time, level, connection, event, message, fields; for journald,
 * Loki, ELK), and `journald` (text without the time, led by the syslog priority `<N>` that
 * journald reads; chosen by itself under systemd, where JOURNAL_STREAM is set).
 */

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
/** syslog priorities journald reads from a `<N>` prefix (sd-daemon(3)). */
const PRIORITIES: Record<LogLevel, number> = { debug: 7, info: 6, warn: 4, error: 3 };

export type LogFormat = 'text' | 'json' | 'journald';

/** What a structured line carries beside its message: an event name and a few values (never secrets). */
export interface LogFields {
  event?: string;
  [key: string]: string | number | boolean | null | undefined;
}

export interface LoggerOptions {
  level?: LogLevel;
  stderr?: boolean;
  /** Directory for hcm.log, hcm.log.1, …; undefined = no files. */
  dir?: string;
  maxFileBytes?: number;
  maxFiles?: number;
  ringSize?: number;
  /** Of stderr; files get `text` unless this is `json` (journald's prefixes mean nothing in a file). Default text. */
  format?: LogFormat;
}

export const LOG_FILE = 'hcm.log';

/** Every pattern below contains one of these: most lines contain none and skip the five scans. */
const SECRET_HINT = /sharedaccess|sb-hc-token|sig=/i;

export function redactSecrets(text: string): string {
  if (!SECRET_HINT.test(text)) return text;
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

  debug(message: string, connection?: string, fields?: LogFields): void {
    this.log('debug', message, connection, fields);
  }
  info(message: string, connection?: string, fields?: LogFields): void {
    this.log('info', message, connection, fields);
  }
  warn(message: string, connection?: string, fields?: LogFields): void {
    this.log('warn', message, connection, fields);
  }
  error(message: string, connection?: string, fields?: LogFields): void {
    this.log('error', message, connection, fields);
  }

  log(level: LogLevel, message: string, connection?: string, fields?: LogFields): void {
    if (LEVELS[level] < this.level) return;
    const entry: LogEntry = { seq: ++this.seq, time: new Date().toISOString(), level, message: redactSecrets(message) };
    if (connection) entry.connection = connection;
    this.ring.push(entry);
    if (this.ring.length > this.ringSize) this.ring.splice(0, this.ring.length - this.ringSize);
    const format = this.options.format ?? 'text';
    if (format === 'json') {
      const line = `${formatJsonLine(entry, fields)}\n`;
      if (this.options.stderr) process.stderr.write(line);
      this.writeFile(line);
    } else {
      const line = formatLogLine(entry);
      if (this.options.stderr)
        process.stderr.write(format === 'journald' ? `<${PRIORITIES[level]}>${formatJournaldLine(entry)}\n` : `${line}\n`);
      this.writeFile(`${line}\n`);
    }
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

/** journald stamps each line itself: the level (as the `<N>` prefix) and the rest without a time. */
export function formatJournaldLine(entry: LogEntry): string {
  return `${entry.connection ? `[${entry.connection}] ` : ''}${entry.message}`;
}

/**
 * One JSON object per line: time, level, connection (or null), event (`log` when the line has no
 * name of its own), message and fields. Strings in fields are redacted like the message.
 */
export function formatJsonLine(entry: LogEntry, fields?: LogFields): string {
  const { event, ...rest } = fields ?? {};
  const clean: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(rest)) {
    if (v === undefined) continue;
    clean[k] = typeof v === 'string' ? redactSecrets(v) : v;
  }
  return JSON.stringify({
    time: entry.time,
    level: entry.level,
    connection: entry.connection ?? null,
    event: event ?? 'log',
    message: entry.message,
    fields: clean,
  });
}

/**
 * `journald` when stderr is the journal's stream (systemd sets JOURNAL_STREAM to its device and
 * inode, inherited by children whose stderr may be elsewhere, hence the check), else `text`.
 */
export function defaultLogFormat(env: NodeJS.ProcessEnv = process.env, stderrFd = 2): LogFormat {
  const stream = env.JOURNAL_STREAM;
  if (!stream) return 'text';
  try {
    const s = fstatSync(stderrFd);
    return stream === `${s.dev}:${s.ino}` ? 'journald' : 'text';
  } catch {
    return 'text';
  }
}

export function formatLogLine(entry: LogEntry): string {
  return `${entry.time} ${entry.level.toUpperCase().padEnd(5)} ${entry.connection ? `[${entry.connection}] ` : ''}${entry.message}`;
}
