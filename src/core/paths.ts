import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { nodeCrypto } from './lazy-crypto.js';

/**
 * Where HCM keeps its files: per user, following each OS's convention (XDG on Linux,
 * %APPDATA% on Windows, ~/Library on macOS), or all under HCM_HOME when it is set. A system
 * service may also name its log folder (HCM_LOG_DIR) and control socket (HCM_CONTROL_SOCKET).
 * Pure: the caller's environment goes in, paths come out; folders.ts creates them.
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
  /** The folder holding the control socket: owned by the user, mode 0700 (none on Windows). */
  controlSocketDir: string | null;
  emulatorStateDir: string;
  /**
   * A system service's admin group (HCM_ADMIN_GROUP, a name or a gid): its members may use the
   * control socket (folder 0750, socket 0660 with that group). Unset: the socket is the user's alone.
   */
  adminGroup?: string;
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
  return {
    config: posix.join(xdgDir(env, 'XDG_CONFIG_HOME') ?? posix.join(home, '.config'), APP),
    log: posix.join(xdgDir(env, 'XDG_STATE_HOME') ?? posix.join(home, '.local/state'), APP),
    data: posix.join(xdgDir(env, 'XDG_DATA_HOME') ?? posix.join(home, '.local/share'), APP),
  };
}

/** XDG Base Directory: relative values are invalid and ignored, as the specification says. */
function xdgDir(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value && path.posix.isAbsolute(value) ? value : undefined;
}

export interface PathContext {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  home?: string;
  /** The user's numeric id (names the private folder under tmp); null where the OS has none. */
  uid?: number | null;
  tmp?: string;
}

export function hcmPaths(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
  context: Pick<PathContext, 'uid' | 'tmp'> = {},
): HcmPaths {
  const uid = context.uid === undefined ? (process.getuid?.() ?? null) : context.uid;
  const tmp = context.tmp ?? tmpdir();
  const override = env.HCM_HOME;
  const dirs: UserDirs = override ? { config: override, log: join(override, 'logs'), data: override } : userDirs(env, platform, home);
  const j = platform === 'win32' ? path.win32.join : path.posix.join;
  // A service names its folders itself (systemd: StateDirectory, LogsDirectory, RuntimeDirectory).
  const socket = env.HCM_CONTROL_SOCKET
    ? { path: env.HCM_CONTROL_SOCKET, dir: platform === 'win32' ? null : path.posix.dirname(env.HCM_CONTROL_SOCKET) }
    : controlSocketPath(dirs.config, platform, env, uid, tmp);
  return {
    home: dirs.config,
    configFile: j(dirs.config, 'config.json'),
    secretsFile: j(dirs.config, 'secrets.json'),
    logDir: env.HCM_LOG_DIR || dirs.log,
    controlSocket: socket.path,
    controlSocketDir: socket.dir,
    emulatorStateDir: j(dirs.data, 'emulator'),
    ...(env.HCM_ADMIN_GROUP ? { adminGroup: env.HCM_ADMIN_GROUP } : {}),
  };
}

/**
 * The control socket lives only in a folder that the user owns with mode 0700, so no other local
 * user can create it first and receive the CLI's requests (keys included). That is the config
 * folder when the path fits a Unix socket address (~104 bytes), else $XDG_RUNTIME_DIR/open-hcm,
 * else a private folder under tmp named after the uid (created and checked by folders.ts).
 */
function controlSocketPath(
  configDir: string,
  platform: NodeJS.Platform,
  env: NodeJS.ProcessEnv,
  uid: number | null,
  tmp: string,
): { path: string; dir: string | null } {
  const hash = () => nodeCrypto().createHash('sha256').update(configDir).digest('hex').slice(0, 16);
  if (platform === 'win32') return { path: `\\\\.\\pipe\\${APP}-${hash()}`, dir: null };
  const inConfig = join(configDir, 'hcm.sock');
  if (Buffer.byteLength(inConfig) < 100) return { path: inConfig, dir: configDir };
  const runtime = xdgDir(env, 'XDG_RUNTIME_DIR');
  const dir = runtime ? join(runtime, APP) : join(tmp, `${APP}-${uid ?? 'user'}`);
  return { path: join(dir, `${hash()}.sock`), dir };
}

/** The path as a user would type it: ~/… for anything under the home folder. */
export function displayPath(path: string, home: string = homedir()): string {
  return home && home !== '/' && (path === home || path.startsWith(`${home}/`)) ? `~${path.slice(home.length)}` : path;
}
