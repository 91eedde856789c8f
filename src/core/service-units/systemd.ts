import { FILE_LIMIT, SERVICE_NAME, SYSTEM_PATHS, type ServiceOptions, runArguments } from './options.js';

/**
 * systemd: a system unit (its own user, the admin group for the control socket, the folders
 * systemd makes and owns, hardening) or a user unit (`--user`: the user's own folders, so their
 * hcm and desktop app reach it as usual). Restart on failure; `systemctl reload` starts a new agent
 * that takes over without dropping a connection (hcm run --hup-takeover; the new one reports itself
 * as the main process, hence NotifyAccess=all). Logs go to the journal with their levels.
 */

/** One value of ExecStart: quoted when it needs to be (systemd's own quoting rules). */
function quote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `"${arg.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function execLine(o: ServiceOptions): string {
  // '%' starts a specifier in unit files.
  return [...o.command, ...runArguments(o, ['--hup-takeover'])].map(quote).join(' ').replace(/%/g, '%%');
}

/** ProtectHome=yes hides /home, /root and /run/user: an hcm installed there (npm link from a checkout) could not start. */
function protectHome(o: ServiceOptions): string {
  return o.command.some((p) => /^\/(home|root|run\/user)(\/|$)/.test(p)) ? 'read-only' : 'yes';
}

export function systemdUnit(o: ServiceOptions): string {
  const stopTimeout = o.graceSeconds + 15;
  const common = [
    `ExecStart=${execLine(o)}`,
    // A new agent from the files on disk takes over, then this one drains and exits.
    'ExecReload=/bin/kill -HUP $MAINPID',
    'NotifyAccess=all',
    'Restart=on-failure',
    'RestartSec=2s',
    `TimeoutStopSec=${stopTimeout}s`,
    `LimitNOFILE=${FILE_LIMIT}`,
  ];
  if (o.scope === 'user') {
    return `${[
      '[Unit]',
      'Description=Open Hybrid Connection Manager agent (Azure Relay Hybrid Connections to TCP endpoints)',
      'After=network-online.target',
      '',
      '[Service]',
      'Type=simple',
      ...common,
      'NoNewPrivileges=yes',
      'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
      '',
      '[Install]',
      'WantedBy=default.target',
    ].join('\n')}\n`;
  }
  return `${[
    '[Unit]',
    'Description=Open Hybrid Connection Manager agent (Azure Relay Hybrid Connections to TCP endpoints)',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `User=${o.user}`,
    // The agent's primary group is the admin group: its control socket is made with that group (0660).
    `Group=${o.adminGroup}`,
    ...common,
    `Environment=HCM_HOME=${SYSTEM_PATHS.state}`,
    `Environment=HCM_LOG_DIR=${SYSTEM_PATHS.logs}`,
    `Environment=HCM_CONTROL_SOCKET=${SYSTEM_PATHS.socket}`,
    `Environment=HCM_ADMIN_GROUP=${o.adminGroup}`,
    `EnvironmentFile=-${SYSTEM_PATHS.config}/environment`,
    `StateDirectory=${SERVICE_NAME}`,
    'StateDirectoryMode=0700',
    `LogsDirectory=${SERVICE_NAME}`,
    'LogsDirectoryMode=0750',
    `RuntimeDirectory=${SERVICE_NAME}`,
    'RuntimeDirectoryMode=0750',
    `ConfigurationDirectory=${SERVICE_NAME}`,
    'UMask=0077',
    // Hardening: no privileges, the file system read-only but for the folders above, no devices,
    // kernel knobs or other users' homes, and only the socket families the agent uses.
    'NoNewPrivileges=yes',
    'CapabilityBoundingSet=',
    'AmbientCapabilities=',
    'ProtectSystem=strict',
    `ProtectHome=${protectHome(o)}`,
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'ProtectProc=invisible',
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'SystemCallArchitectures=native',
    'SystemCallFilter=@system-service',
    'SystemCallErrorNumber=EPERM',
    // Not MemoryDenyWriteExecute: V8 compiles JavaScript to machine code at run time.
    '',
    '[Install]',
    'WantedBy=multi-user.target',
  ].join('\n')}\n`;
}

/**
 * systemd-sysusers: the agent's own account and the admin group (never removed by uninstall: sysusers
 * does not remove accounts). Admins join the group with usermod (an `m` line would create a missing user).
 */
export function sysusersConf(o: ServiceOptions): string {
  return `${[
    '# Open Hybrid Connection Manager: the agent runs as its own system user; members of the admin',
    '# group may use its control socket (hcm list, hcm ui, the desktop app) and read its logs.',
    `g ${o.adminGroup} -`,
    `u ${o.user} - "Open HCM agent" ${SYSTEM_PATHS.state} /usr/sbin/nologin`,
    `m ${o.user} ${o.adminGroup}`,
  ].join('\n')}\n`;
}

/** For admins' shells: members of the admin group reach the service's agent with hcm without setting anything. */
export function profileScript(o: ServiceOptions): string {
  return `${[
    "# Open Hybrid Connection Manager: members of the admin group talk to the system service's agent",
    '# (hcm list, hcm logs, hcm ui, the desktop app started from this shell).',
    `if [ -z "\${HCM_CONTROL_SOCKET:-}" ] && id -Gn 2>/dev/null | tr ' ' '\\n' | grep -qx '${o.adminGroup}'; then`,
    `  export HCM_CONTROL_SOCKET=${SYSTEM_PATHS.socket}`,
    'fi',
  ].join('\n')}\n`;
}

/** The unit's EnvironmentFile: settings an admin may turn on (read by systemd, so it may be root's alone). */
export function environmentFile(): string {
  return `${[
    '# Settings of the open-hcm service, read when it starts (systemctl restart open-hcm after a change).',
    '# Prometheus metrics, /ready and /healthz (loopback):',
    '# HCM_METRICS=127.0.0.1:9464',
    '# Log lines as JSON objects instead of journald text:',
    '# (add --log-format json to ExecStart with: systemctl edit open-hcm)',
    '# A proxy, a CA to trust, timeouts: see the README, "Advanced settings (environment)".',
  ].join('\n')}\n`;
}
