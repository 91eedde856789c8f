import { chmodSync, chownSync, lstatSync, mkdirSync, statSync } from './fs-sync.js';
import { dirname } from 'node:path';
import { HcmError } from '../shared/errors.js';
import { resolveGroupId } from './admin-group.js';
import { displayPath, type HcmPaths } from './paths.js';

/**
 * Creates the folders a command needs before it uses them, so a new user's first command works
 * on an empty home, and says in one line which folder could not be made and why.
 */

export type FolderRole = 'configuration' | 'log' | 'data' | 'control socket';

export class FolderError extends HcmError {
  constructor(message: string) {
    super('E_FOLDER', message);
    this.name = 'FolderError';
  }
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  ENOTDIR: 'a file is in the way',
  EEXIST: 'a file is in the way',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the path is too long',
};

/** mkdir reports the folder it was asked for; the user needs the file that is in the way. */
function inTheWay(dir: string): string | undefined {
  for (let p = dir; dirname(p) !== p; p = dirname(p)) {
    try {
      if (!statSync(p).isDirectory()) return p;
    } catch {
      // not there (yet): look further up
    }
  }
  return undefined;
}

function describe(err: NodeJS.ErrnoException): string {
  const reason = (err.code && REASONS[err.code]) ?? err.message;
  const path = err.code === 'ENOTDIR' || err.code === 'EEXIST' ? (inTheWay(err.path ?? '') ?? err.path) : err.path;
  const where = path ? ` at ${displayPath(path)}` : '';
  return `${reason}${where}${err.code ? ` (${err.code})` : ''}`;
}

/** mkdir -p with mode 0700 for what it creates; an existing folder is left as it is. */
export function ensureFolder(dir: string, role: FolderRole): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new FolderError(`cannot create the ${role} folder ${displayPath(dir)}: ${describe(err as NodeJS.ErrnoException)}`);
  }
  let isDir: boolean;
  try {
    isDir = lstatSync(dir).isDirectory();
  } catch (err) {
    throw new FolderError(`cannot use the ${role} folder ${displayPath(dir)}: ${describe(err as NodeJS.ErrnoException)}`);
  }
  if (!isDir) throw new FolderError(`cannot use the ${role} folder ${displayPath(dir)}: it is not a folder`);
}

/**
 * A folder only this user may enter: created 0700, refused when another user owns it or it is a
 * symbolic link (both would let someone else put files there first), tightened to 0700 when ours
 * but open to others.
 */
export function ensurePrivateFolder(dir: string, role: FolderRole, uid: number | null = process.getuid?.() ?? null): void {
  ensureFolder(dir, role);
  if (uid === null) return; // Windows: no POSIX owner or mode to check
  const info = lstatSync(dir);
  if (info.uid !== uid) {
    throw new FolderError(`refusing to use the ${role} folder ${displayPath(dir)}: it belongs to user ${info.uid}, not to you (${uid})`);
  }
  if ((info.mode & 0o077) !== 0) {
    try {
      chmodSync(dir, 0o700);
    } catch (err) {
      throw new FolderError(`cannot make the ${role} folder ${displayPath(dir)} private: ${describe(err as NodeJS.ErrnoException)}`);
    }
  }
}

/**
 * A folder this user owns that the members of one group may enter but not change (0750 with that
 * group): where a system service's control socket lives, so its admins can reach the agent.
 * Refused when another user owns it or it is a symbolic link; corrected when its group or mode differ.
 */
export function ensureGroupFolder(dir: string, role: FolderRole, gid: number, uid: number | null = process.getuid?.() ?? null): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
  } catch (err) {
    throw new FolderError(`cannot create the ${role} folder ${displayPath(dir)}: ${describe(err as NodeJS.ErrnoException)}`);
  }
  if (uid === null) return;
  const info = lstatSync(dir);
  if (!info.isDirectory()) throw new FolderError(`cannot use the ${role} folder ${displayPath(dir)}: it is not a folder`);
  if (info.uid !== uid) {
    throw new FolderError(`refusing to use the ${role} folder ${displayPath(dir)}: it belongs to user ${info.uid}, not to you (${uid})`);
  }
  try {
    if (info.gid !== gid) chownSync(dir, uid, gid);
    if ((info.mode & 0o777) !== 0o750) chmodSync(dir, 0o750);
  } catch (err) {
    throw new FolderError(`cannot give the ${role} folder ${displayPath(dir)} to group ${gid}: ${describe(err as NodeJS.ErrnoException)}`);
  }
}

/** What an agent writes to: its configuration, its logs and its control socket. */
export function prepareAgentFolders(paths: HcmPaths): void {
  ensurePrivateFolder(paths.home, 'configuration');
  ensureFolder(paths.logDir, 'log');
  if (!paths.controlSocketDir) return;
  if (paths.adminGroup) {
    if (paths.controlSocketDir === paths.home) {
      throw new FolderError(
        'HCM_ADMIN_GROUP needs the control socket in a folder of its own (set HCM_CONTROL_SOCKET, e.g. /run/open-hcm/hcm.sock): the configuration folder stays private',
      );
    }
    ensureGroupFolder(paths.controlSocketDir, 'control socket', resolveGroupId(paths.adminGroup));
  } else {
    ensurePrivateFolder(paths.controlSocketDir, 'control socket');
  }
}

/** What a command that only edits the configuration writes to. */
export function prepareConfigFolder(paths: HcmPaths): void {
  ensurePrivateFolder(paths.home, 'configuration');
}
