/**
 * What every service definition needs (systemd unit, launchd plist, WinSW configuration): how to
 * start the agent and the few choices an admin makes. The generators are pure: options in, file
 * text out; installer.ts writes the files (under a root folder in tests) and runs the commands.
 */

export type ServiceScope = 'system' | 'user';

export interface ServiceOptions {
  scope: ServiceScope;
  /** The program and its first arguments: node and the CLI script (hcm's own, as installed). */
  command: string[];
  /** Seconds open tunnels get on stop and hand-over (hcm run --grace). */
  graceSeconds: number;
  /** hcm run --metrics, when the admin asks for it. */
  metrics?: string;
  /** System scope: the account the agent runs as, and the group whose members manage it. */
  user: string;
  adminGroup: string;
  /** System scope: people to put in the admin group (systemd-sysusers `m` lines). */
  admins: string[];
}

export const SERVICE_NAME = 'open-hcm';
export const DEFAULT_USER = 'open-hcm';
export const DEFAULT_ADMIN_GROUP = 'hcm-admins';
/**
 * File descriptors: each tunnel holds two sockets (the relay's and the endpoint's), so 10,000
 * connections need 20,000 plus the control channels, logs and Node's own: 65,536 leaves room.
 */
export const FILE_LIMIT = 65_536;

/** The system service's folders (systemd names them; launchd and Windows get their own). */
export const SYSTEM_PATHS = {
  state: `/var/lib/${SERVICE_NAME}`,
  logs: `/var/log/${SERVICE_NAME}`,
  runtime: `/run/${SERVICE_NAME}`,
  config: `/etc/${SERVICE_NAME}`,
  socket: `/run/${SERVICE_NAME}/hcm.sock`,
};

export function runArguments(o: ServiceOptions, extra: string[] = []): string[] {
  return ['run', '--grace', String(o.graceSeconds), ...(o.metrics ? ['--metrics', o.metrics] : []), ...extra];
}
