import { FILE_LIMIT, SERVICE_NAME, type ServiceOptions, runArguments } from './options.js';

/**
 * macOS: a launchd property list. `--user`: a LaunchAgent of the logged-in user (their own
 * folders, so their hcm and desktop app reach it). System: a LaunchDaemon running as the service
 * account the admin created, with its folders under /Library and the socket shared with the admin
 * group. launchd restarts it when it fails (KeepAlive on an unsuccessful exit), raises the file
 * limit and sends its output to the log folder. Not run here: written and documented only.
 */

export const LAUNCHD_LABEL = `io.github.${SERVICE_NAME}.agent`;

export const MACOS_SYSTEM_PATHS = {
  state: `/Library/Application Support/${SERVICE_NAME}`,
  logs: `/Library/Logs/${SERVICE_NAME}`,
  runtime: `/var/run/${SERVICE_NAME}`,
  socket: `/var/run/${SERVICE_NAME}/hcm.sock`,
};

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function value(v: string | number | boolean | string[] | Record<string, string | number | boolean>, indent: string): string {
  if (typeof v === 'string') return `${indent}<string>${xml(v)}</string>`;
  if (typeof v === 'number') return `${indent}<integer>${v}</integer>`;
  if (typeof v === 'boolean') return `${indent}<${v}/>`;
  if (Array.isArray(v)) return [`${indent}<array>`, ...v.map((x) => value(x, `${indent}  `)), `${indent}</array>`].join('\n');
  return [
    `${indent}<dict>`,
    ...Object.entries(v).flatMap(([k, x]) => [`${indent}  <key>${xml(k)}</key>`, value(x, `${indent}  `)]),
    `${indent}</dict>`,
  ].join('\n');
}

export function launchdPlist(o: ServiceOptions, home?: string): string {
  const system = o.scope === 'system';
  const logDir = system ? MACOS_SYSTEM_PATHS.logs : `${home ?? '~'}/Library/Logs/${SERVICE_NAME}`;
  const env: Record<string, string> = system
    ? {
        HCM_HOME: MACOS_SYSTEM_PATHS.state,
        HCM_LOG_DIR: MACOS_SYSTEM_PATHS.logs,
        HCM_CONTROL_SOCKET: MACOS_SYSTEM_PATHS.socket,
        HCM_ADMIN_GROUP: o.adminGroup,
      }
    : {};
  const entries: Array<[string, Parameters<typeof value>[0]]> = [
    ['Label', LAUNCHD_LABEL],
    ['ProgramArguments', [...o.command, ...runArguments(o)]],
    ['RunAtLoad', true],
    // Restarted when it fails, not after a clean stop.
    ['KeepAlive', { SuccessfulExit: false }],
    ['ThrottleInterval', 2],
    ['ExitTimeOut', o.graceSeconds + 15],
    ['ProcessType', 'Background'],
    ['SoftResourceLimits', { NumberOfFiles: FILE_LIMIT }],
    ['HardResourceLimits', { NumberOfFiles: FILE_LIMIT }],
    ['StandardOutPath', `${logDir}/launchd.out.log`],
    ['StandardErrorPath', `${logDir}/launchd.err.log`],
    ['Umask', 63],
  ];
  if (system) {
    entries.push(['UserName', o.user], ['GroupName', o.adminGroup]);
  }
  if (Object.keys(env).length) entries.push(['EnvironmentVariables', env]);
  return `${[
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    value(Object.fromEntries(entries) as Record<string, never>, ''),
    '</plist>',
  ].join('\n')}\n`;
}
