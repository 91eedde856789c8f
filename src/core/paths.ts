import { createHash } from 'node:crypto';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';

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
const { join } = path;

interface UserDirs {
  config: string;
  log: string;
  data: string;
}

/** Each OS's per-user folders for an application (the layout env-paths made popular). */
export function userDirs(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, home: string): UserDirs {
  if (platform === 'win32') {
    const win = path.win32;
    const roaming = env.APPDATA || win.join(home, 'AppData', 'Roaming');
    const local = env.LOCALAPPDATA || win.join(home, 'AppData', 'Local');
    return { config: win.join(roaming, APP, 'Config'), log: win.join(local, APP, 'Log'), data: win.join(local, APP, 'Data') };
  }
  const posix = path.posix;
  if (platform === 'darwin') {
    const library = posix.join(home, 'Library');
    return {
      config: posix.join(library, 'Preferences', APP),
      log: posix.join(library, 'Logs', APP),
      data: posix.join(library, 'Application Support', APP),
    };
  }
  // XDG Base Directory: relative values are invalid and ignored, as the specification says.
  const xdg = (name: string, fallback: string) => (env[name] && posix.isAbsolute(env[name]!) ? env[name]! : posix.join(home, fallback));
  return {
    config: posix.join(xdg('XDG_CONFIG_HOME', '.config'), APP),
    log: posix.join(xdg('XDG_STATE_HOME', '.local/state'), APP),
    data: posix.join(xdg('XDG_DATA_HOME', '.local/share'), APP),
  };
}

export function hcmPaths(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): HcmPaths {
  const override = env.HCM_HOME;
  if (override) {
    return {
      home: override,
      configFile: join(override, 'config.json'),
      secretsFile: join(override, 'secrets.json'),
      logDir: join(override, 'logs'),
      controlSocket: controlSocketPath(override, platform),
      emulatorStateDir: join(override, 'emulator'),
    };
  }
  const p = userDirs(env, platform, home);
  const j = platform === 'win32' ? path.win32.join : path.posix.join;
  return {
    home: p.config,
    configFile: j(p.config, 'config.json'),
    secretsFile: j(p.config, 'secrets.json'),
    logDir: p.log,
    controlSocket: controlSocketPath(p.config, platform),
    emulatorStateDir: j(p.data, 'emulator'),
  };
}

/** Unix socket paths are limited to ~104 bytes, so a long home falls back to a hashed name in tmp. */
function controlSocketPath(home: string, platform: NodeJS.Platform): string {
  const hash = createHash('sha256').update(home).digest('hex').slice(0, 16);
  if (platform === 'win32') return `\\\\.\\pipe\\${APP}-${hash}`;
  const inHome = join(home, 'hcm.sock');
  return Buffer.byteLength(inHome) < 100 ? inHome : join(tmpdir(), `${APP}-${hash}.sock`);
}

export function displayPath(path: string): string {
  const home = homedir();
  return path.startsWith(home) ? `~${path.slice(home.length)}` : path;
}
