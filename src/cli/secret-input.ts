import { readFileSync } from '../core/fs-sync.js';
import { CliError } from './exit.js';

/**
 * Connection strings hold keys, and a command-line argument is readable by every local user in
 * the process list (/proc/<pid>/cmdline). So they may also come from stdin ("-"), a file or an
 * environment variable; an argument still works, with a warning that says why it is unsafe.
 */

export interface SecretSourceOptions {
  fromFile?: string;
  fromEnv?: string;
}

export const SECRET_SOURCE_HELP =
  'The safe ways to pass a connection string (its key is not seen by other users in the process list):\n' +
  '  hcm <command> - < file           read it from stdin (or paste it when asked; it is not echoed)\n' +
  '  --from-file <file>               read it from a file (mode 0600)\n' +
  '  --from-env <VARIABLE>            read it from an environment variable\n' +
  'Given as an argument it works too, with a warning.';

export async function readConnectionString(
  arg: string | undefined,
  opts: SecretSourceOptions,
  warn: (message: string) => void = (m) => process.stderr.write(`hcm: warning: ${m}\n`),
): Promise<string> {
  const sources = [arg !== undefined, opts.fromFile !== undefined, opts.fromEnv !== undefined].filter(Boolean).length;
  if (sources > 1)
    throw new CliError('give the connection string one way only: an argument, "-" (stdin), --from-file or --from-env', 'E_USAGE');
  if (sources === 0) {
    throw new CliError(
      'give the connection string: "-" to read it from stdin, --from-file <file>, --from-env <VARIABLE>, or as an argument',
      'E_USAGE',
    );
  }
  let text: string;
  if (opts.fromFile !== undefined) {
    try {
      text = readFileSync(opts.fromFile, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read ${opts.fromFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 'E_USAGE');
    }
  } else if (opts.fromEnv !== undefined) {
    const value = process.env[opts.fromEnv];
    if (!value) throw new CliError(`the environment variable ${opts.fromEnv} is not set or empty`, 'E_USAGE');
    text = value;
  } else if (arg === '-') {
    text = await readStdin();
  } else {
    text = arg!;
    if (/SharedAccessKey\s*=|SharedAccessSignature/i.test(text)) {
      warn(
        'the connection string was given as an argument, where other local users can read it (process list); next time use "-" (stdin), --from-file or --from-env',
      );
    }
  }
  text = text.trim();
  if (!text) throw new CliError('the connection string is empty', 'E_USAGE');
  return text;
}

/** All of stdin; at a terminal, asks for one line and does not echo it. */
async function readStdin(): Promise<string> {
  const stdin = process.stdin;
  if (stdin.isTTY) return promptHidden('Paste the connection string and press Enter (it is not shown): ');
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) {
    chunks.push(chunk as Buffer);
    if (chunks.reduce((n, c) => n + c.length, 0) > 64 * 1024)
      throw new CliError('stdin holds more than 64 KiB; that is not a connection string', 'E_USAGE');
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let text = '';
    const done = (result: string | Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done(text);
        if (ch === '\u0003') return done(new CliError('cancelled', 'E_USAGE')); // Ctrl+C
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * Commander quotes the offending argument in its errors ("unknown option '-Endpoint=…'"): an
 * argument that may hold a key is described by its length instead.
 */
export function hideArgumentsInUsageError(text: string): string {
  return text.replace(/'([^'\n]*)'/g, (whole, inner: string) =>
    /[=;]/.test(inner) || inner.length > 40 ? `'<${inner.length} characters, not shown: they may hold a key>'` : whole,
  );
}
