import path from 'node:path';
import { LAUNCHD_LABEL, MACOS_SYSTEM_PATHS, launchdPlist } from './launchd.js';
import { SERVICE_NAME, SYSTEM_PATHS, type ServiceOptions } from './options.js';
import { environmentFile, profileScript, systemdUnit, sysusersConf } from './systemd.js';
import { WINDOWS_SERVICE_ID, winswXml } from './windows.js';

/**
 * What installing the service means on each OS: the files to write and the commands to run, and
 * the reverse. Pure, so `--dry-run` prints exactly what would happen and tests check it; the
 * installer carries it out (under a root folder when asked, where only offline commands run).
 */

export type ServicePlatform = 'linux' | 'darwin' | 'win32';

export interface PlannedFile {
  path: string;
  content: string;
  mode: number;
  /** An admin's file once written (settings): kept when it exists, and left on uninstall. */
  keep?: boolean;
}

export interface PlannedCommand {
  argv: string[];
  why: string;
  /** The same step on an offline root folder (`--root`), or null when it only makes sense on a running system. */
  offline: ((root: string) => string[]) | null;
}

export interface ServicePlan {
  platform: ServicePlatform;
  scope: ServiceOptions['scope'];
  /** The unit, label or service id. */
  name: string;
  files: PlannedFile[];
  install: PlannedCommand[];
  uninstall: PlannedCommand[];
  /** Left behind by uninstall on purpose (the agent's data), said plainly. */
  keeps: string[];
  status: string[];
  logs: (follow: boolean, lines: number) => string[];
  /** What the admin does next, or must do by hand. */
  notes: string[];
  /** Where a member of the admin group finds the agent (system scope), for hcm. */
  controlSocket: string | null;
}

export interface PlanContext {
  home: string;
  uid: number;
  /** $XDG_CONFIG_HOME when set (user units live under it). */
  xdgConfigHome?: string;
  /** %ProgramData% on Windows. */
  programData?: string;
  startNow: boolean;
}

export function servicePlan(platform: ServicePlatform, o: ServiceOptions, ctx: PlanContext): ServicePlan {
  if (platform === 'linux') return o.scope === 'system' ? systemdSystem(o, ctx) : systemdUser(o, ctx);
  if (platform === 'darwin') return launchd(o, ctx);
  return windows(o, ctx);
}

function systemdSystem(o: ServiceOptions, ctx: PlanContext): ServicePlan {
  const unit = `${SERVICE_NAME}.service`;
  const sysusers = `/etc/sysusers.d/${SERVICE_NAME}.conf`;
  const enable = ctx.startNow ? ['enable', '--now', unit] : ['enable', unit];
  return {
    platform: 'linux',
    scope: 'system',
    name: unit,
    files: [
      { path: `/etc/systemd/system/${unit}`, content: systemdUnit(o), mode: 0o644 },
      { path: sysusers, content: sysusersConf(o), mode: 0o644 },
      { path: `/etc/profile.d/${SERVICE_NAME}.sh`, content: profileScript(o), mode: 0o644 },
      { path: `${SYSTEM_PATHS.config}/environment`, content: environmentFile(), mode: 0o640, keep: true },
    ],
    install: [
      {
        argv: ['systemd-sysusers', `${SERVICE_NAME}.conf`],
        why: `create the user ${o.user} and the group ${o.adminGroup}`,
        offline: (root) => ['systemd-sysusers', `--root=${root}`, `${SERVICE_NAME}.conf`],
      },
      ...o.admins.map((a) => ({
        argv: ['usermod', '-a', '-G', o.adminGroup, a],
        why: `let ${a} manage it (from the next login)`,
        offline: (root: string) => ['usermod', '--root', root, '-a', '-G', o.adminGroup, a],
      })),
      { argv: ['systemctl', 'daemon-reload'], why: 'let systemd read the new unit', offline: null },
      {
        argv: ['systemctl', ...enable],
        why: ctx.startNow ? 'start it now and at every boot' : 'start it at every boot',
        offline: (root) => ['systemctl', `--root=${root}`, 'enable', unit],
      },
    ],
    uninstall: [
      {
        argv: ['systemctl', 'disable', '--now', unit],
        why: 'stop it (open connections get the grace period) and no longer start it at boot',
        offline: (root) => ['systemctl', `--root=${root}`, 'disable', unit],
      },
      { argv: ['systemctl', 'daemon-reload'], why: 'forget the unit', offline: null },
    ],
    keeps: [
      `${SYSTEM_PATHS.state} (its connections and keys; remove it by hand to forget them)`,
      `${SYSTEM_PATHS.config}/environment (your settings)`,
      `the user ${o.user} and the group ${o.adminGroup} (systemd-sysusers never removes accounts)`,
    ],
    status: ['systemctl', 'status', '--no-pager', unit],
    logs: (follow, lines) => ['journalctl', '--no-pager', '-u', unit, '-n', String(lines), ...(follow ? ['-f'] : [])],
    notes: [
      `members of ${o.adminGroup} manage it with hcm (their shells get HCM_CONTROL_SOCKET=${SYSTEM_PATHS.socket} at the next login): hcm list, hcm add, hcm ui`,
      `add an admin: usermod -aG ${o.adminGroup} NAME (or hcm service install --admin NAME)`,
      `restart without dropping a connection (also after an upgrade): systemctl reload ${unit}`,
      `settings (metrics, proxy): ${SYSTEM_PATHS.config}/environment, then systemctl restart ${unit}`,
    ],
    controlSocket: SYSTEM_PATHS.socket,
  };
}

function systemdUser(o: ServiceOptions, ctx: PlanContext): ServicePlan {
  const unit = `${SERVICE_NAME}.service`;
  const dir = path.posix.join(ctx.xdgConfigHome ?? path.posix.join(ctx.home, '.config'), 'systemd/user');
  const enable = ctx.startNow ? ['--user', 'enable', '--now', unit] : ['--user', 'enable', unit];
  return {
    platform: 'linux',
    scope: 'user',
    name: unit,
    files: [{ path: path.posix.join(dir, unit), content: systemdUnit(o), mode: 0o644 }],
    install: [
      { argv: ['systemctl', '--user', 'daemon-reload'], why: 'let your systemd read the new unit', offline: null },
      { argv: ['systemctl', ...enable], why: ctx.startNow ? 'start it now and at each login' : 'start it at each login', offline: null },
    ],
    uninstall: [
      { argv: ['systemctl', '--user', 'disable', '--now', unit], why: 'stop it and no longer start it', offline: null },
      { argv: ['systemctl', '--user', 'daemon-reload'], why: 'forget the unit', offline: null },
    ],
    keeps: ['your connections and logs (the folders hcm version shows)'],
    status: ['systemctl', '--user', 'status', '--no-pager', unit],
    logs: (follow, lines) => ['journalctl', '--no-pager', '--user-unit', unit, '-n', String(lines), ...(follow ? ['-f'] : [])],
    notes: [
      'it uses your own folders, so hcm, hcm ui and the desktop app talk to it as to any agent of yours',
      'to keep it running while you are logged out: loginctl enable-linger $USER',
      `restart without dropping a connection: systemctl --user reload ${unit}`,
    ],
    controlSocket: null,
  };
}

function launchd(o: ServiceOptions, ctx: PlanContext): ServicePlan {
  const system = o.scope === 'system';
  const file = system ? `/Library/LaunchDaemons/${LAUNCHD_LABEL}.plist` : `${ctx.home}/Library/LaunchAgents/${LAUNCHD_LABEL}.plist`;
  const domain = system ? 'system' : `gui/${ctx.uid}`;
  return {
    platform: 'darwin',
    scope: o.scope,
    name: LAUNCHD_LABEL,
    files: [{ path: file, content: launchdPlist(o, ctx.home), mode: 0o644 }],
    install: [
      ...(system
        ? [
            {
              argv: ['mkdir', '-p', MACOS_SYSTEM_PATHS.state, MACOS_SYSTEM_PATHS.logs],
              why: 'the folders of the service',
              offline: null,
            },
            {
              argv: ['chown', `${o.user}:${o.adminGroup}`, MACOS_SYSTEM_PATHS.state, MACOS_SYSTEM_PATHS.logs],
              why: 'owned by the service account',
              offline: null,
            },
          ]
        : []),
      { argv: ['launchctl', 'bootstrap', domain, file], why: 'load it now and at every start', offline: null },
    ],
    uninstall: [{ argv: ['launchctl', 'bootout', `${domain}/${LAUNCHD_LABEL}`], why: 'stop and unload it', offline: null }],
    keeps: [system ? `${MACOS_SYSTEM_PATHS.state} (its connections and keys)` : 'your connections and logs'],
    status: ['launchctl', 'print', `${domain}/${LAUNCHD_LABEL}`],
    logs: (_follow, lines) => [
      'tail',
      '-n',
      String(lines),
      system ? `${MACOS_SYSTEM_PATHS.logs}/hcm.log` : `${ctx.home}/Library/Logs/${SERVICE_NAME}/hcm.log`,
    ],
    notes: system
      ? [
          `create the account and group first (not done by hcm): sudo dscl . -create /Groups/${o.adminGroup} (with a PrimaryGroupID) and a hidden user ${o.user} (sysadminctl -addUser), or set UserName in the plist to an existing account`,
          `members of ${o.adminGroup} reach the agent with HCM_CONTROL_SOCKET=${MACOS_SYSTEM_PATHS.socket}`,
        ]
      : ['it uses your own folders, so hcm and the desktop app talk to it as to any agent of yours'],
    controlSocket: system ? MACOS_SYSTEM_PATHS.socket : null,
  };
}

function windows(o: ServiceOptions, ctx: PlanContext): ServicePlan {
  const dir = path.win32.join(ctx.programData ?? 'C:\\ProgramData', 'open-hcm', 'service');
  const exe = path.win32.join(dir, `${WINDOWS_SERVICE_ID}.exe`);
  return {
    platform: 'win32',
    scope: 'system',
    name: WINDOWS_SERVICE_ID,
    files: [{ path: path.win32.join(dir, `${WINDOWS_SERVICE_ID}.xml`), content: winswXml(o), mode: 0o644 }],
    install: [
      { argv: [exe, 'install'], why: 'register the service (WinSW)', offline: null },
      ...(ctx.startNow ? [{ argv: [exe, 'start'], why: 'start it now', offline: null }] : []),
    ],
    uninstall: [
      { argv: [exe, 'stop'], why: 'stop it (open connections get the grace period)', offline: null },
      { argv: [exe, 'uninstall'], why: 'unregister it', offline: null },
    ],
    keeps: [`${path.win32.join(ctx.programData ?? 'C:\\ProgramData', 'open-hcm', 'data')} (its connections and keys)`],
    status: [exe, 'status'],
    logs: () => [
      'powershell',
      '-NoProfile',
      '-Command',
      `Get-Content -Tail 100 "${path.win32.join(ctx.programData ?? 'C:\\ProgramData', 'open-hcm', 'logs', 'hcm.log')}"`,
    ],
    notes: [
      `copy WinSW (WinSW-x64.exe, from its releases) to ${exe} before installing: Node cannot talk to the Service Control Manager itself`,
      `give LocalService its folder: icacls "${path.win32.join(ctx.programData ?? 'C:\\ProgramData', 'open-hcm')}" /grant "NT AUTHORITY\\LocalService:(OI)(CI)M"`,
      'manage it with hcm from an elevated prompt with HCM_HOME set to the service data folder',
    ],
    controlSocket: null,
  };
}
