/** The relay hosts and the clock as the details show them. Pure functions. */
import type { ConnectionDetails, GatewayInfo } from '../shared/api.js';
import { formatDuration } from './format.js';

export interface GatewayRow {
  host: string;
  /** What it was used for: the control channel, rendezvous, or both. */
  roles: Array<GatewayInfo['role']>;
  /** The latest use of any of its ports, or null when the host did not say. */
  lastSeen: string | null;
}

/**
 * The relay hosts this agent connected to for the connection, each with what it was used for and
 * when last. Names come from `gatewayHosts` (the list the copy buttons are for) or else from
 * `gateways`; older hosts send neither and get no row (null). Anything malformed is left out.
 */
export function gatewayRows(d: ConnectionDetails | null): GatewayRow[] | null {
  if (!d) return null;
  const raw: unknown = d.gatewayHosts;
  const infos = (Array.isArray(d.gateways) ? d.gateways : []).filter(
    (g): g is GatewayInfo => !!g && typeof g.host === 'string' && g.host !== '' && typeof g.lastSeen === 'string',
  );
  let hosts: string[];
  if (Array.isArray(raw) && raw.length > 0) {
    if (!raw.every((h): h is string => typeof h === 'string' && h !== '')) return null;
    hosts = raw;
  } else {
    hosts = [...new Set(infos.map((g) => g.host))];
  }
  if (hosts.length === 0) return null;
  return hosts.map((host) => {
    const mine = infos.filter((g) => g.host === host);
    const roles = (['control', 'rendezvous'] as const).filter((r) => mine.some((g) => g.role === r));
    const latest = mine.reduce<string | null>((at, g) => (at === null || Date.parse(g.lastSeen) > Date.parse(at) ? g.lastSeen : at), null);
    return { host, roles, lastSeen: latest };
  });
}

export const ROLE_LABELS: Record<GatewayInfo['role'], string> = { control: 'control channel', rendezvous: 'rendezvous' };

/** "in step with the relay", "2 min 05 s ahead of the relay", "40 s behind the relay"; null when not known. */
export function clockText(skewSeconds: number | null | undefined): string | null {
  if (typeof skewSeconds !== 'number' || !Number.isFinite(skewSeconds)) return null;
  if (Math.abs(skewSeconds) < 1) return 'in step with the relay';
  return `${formatDuration(Math.abs(skewSeconds) * 1000)} ${skewSeconds > 0 ? 'ahead of' : 'behind'} the relay`;
}
