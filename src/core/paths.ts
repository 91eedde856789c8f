import { createHash } from 'node:crypto';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import envPaths from 'env-paths';

/**
 * Where HCM keeps its files: per user, following each OS's convention (XDG on Linux,
 * %APPDATA% on Windows, ~/Library on macOS), or all under HCM_HOME when it is set.
 */
export interface HcmPaths {
  home: string;
  /** Readable settings: connections without their keys. */
  configFile: string;
  /** Keys and connection strings, mode 0600, apart from the settings. */
  secretsFile: string;
  logDir: string;
  /** Local control socket of a running agent (a named pipe on Windows). */
  controlSocket: string;
  emulatorStateDir: string;
}

const APP = 'open-hcm';

export function hcmPaths(env: NodeJS.ProcessEnv = process.env): HcmPaths {
  const override = env.HCM_HOME;
  if (override) {
    return {
      home: override,
      configFile: join(override, 'config.json'),
      secretsFile: join(override, 'secrets.json'),
      logDir: join(override, 'logs'),
      controlSocket: controlSocketPath(override),
      emulatorStateDir: join(override, 'emulator'),
    };
  }
  const p = envPaths(APP, { suffix: '' });
  return {
    home: p.config,
    configFile: join(p.config, 'config.json'),
    secretsFile: join(p.config, 'secrets.json'),
    logDir: p.log,
    controlSocket: controlSocketPath(p.config),
    emulatorStateDir: join(p.data, 'emulator'),
  };
}

/** Unix socket paths are limited to ~104 bytes, so a long home falls back to a hashed name in tmp. */
function controlSocketPath(home: string): string {
  const hash = createHash('sha256').update(home).digest('hex').slice(0, 16);
  if (process.platform === 'win32') return `\\\\.\\pipe\\${APP}-${hash}`;
  const inHome = join(home, 'hcm.sock');
  return Buffer.byteLength(inHome) < 100 ? inHome : join(tmpdir(), `${APP}-${hash}.sock`);
}

export function displayPath(path: string): string {
  const home = homedir();
  return path.startsWith(home) ? `~${path.slice(home.length)}` : path;
}
