/**
 * The relay hosts the agent actually connected to, per connection: the namespace host of the
 * control channel and every rendezvous host the relay named in an `accept` (Azure hands those out
 * on gateway hosts such as g17-prod-….servicebus.windows.net, docs/protocol.md §4.2), with when
 * each was last used. This is the list a firewall must let through, taken from what happened
 * rather than from a document. Kept in memory, bounded per connection.
 */

export type GatewayRole = 'control' | 'rendezvous';

export interface GatewayEntry {
  host: string;
  port: number;
  role: GatewayRole;
  /** Milliseconds since the epoch. */
  lastSeen: number;
}

export const MAX_GATEWAYS_PER_CONNECTION = 256;

export class GatewayLog {
  private readonly byConnection = new Map<string, Map<string, GatewayEntry>>();

  constructor(private readonly limit = MAX_GATEWAYS_PER_CONNECTION) {}

  /** Notes that connection `id` connected to `host:port` in `role` at `at`; the oldest entry goes beyond the limit. */
  record(id: string, host: string, port: number, role: GatewayRole, at = Date.now()): void {
    let entries = this.byConnection.get(id);
    if (!entries) this.byConnection.set(id, (entries = new Map()));
    const h = host.toLowerCase();
    const key = `${role} ${h}:${port}`;
    const entry = entries.get(key);
    if (entry) {
      entry.lastSeen = at;
      // Map order is insertion order: moved to the end, the least recently seen stays first.
      entries.delete(key);
      entries.set(key, entry);
      return;
    }
    entries.set(key, { host: h, port, role, lastSeen: at });
    if (entries.size > this.limit) entries.delete(entries.keys().next().value!);
  }

  /** Connection `id`'s hosts: the control channel's first, then rendezvous hosts by name. */
  list(id: string): GatewayEntry[] {
    const entries = [...(this.byConnection.get(id)?.values() ?? [])].map((e) => ({ ...e }));
    return entries.sort((a, b) => (a.role === b.role ? compareHosts(a, b) : a.role === 'control' ? -1 : 1));
  }

  forget(id: string): void {
    this.byConnection.delete(id);
  }
}

/** By name, with numbers in names compared as numbers (g2 before g10). */
function compareHosts(a: GatewayEntry, b: GatewayEntry): number {
  return a.host.localeCompare(b.host, 'en', { numeric: true }) || a.port - b.port;
}

/** Splits `ws[s]://host[:port]/…` into host and port (443/80 by scheme); undefined when it is not such a URL. */
export function hostAndPort(url: string): { host: string; port: number } | undefined {
  const m = /^(wss?|https?):\/\/(?:\[([^\]]+)\]|([^:/?#]+))(?::(\d{1,5}))?/i.exec(url);
  if (!m) return undefined;
  const secure = /^(wss|https)$/i.test(m[1]!);
  return { host: (m[2] ?? m[3])!.toLowerCase(), port: m[4] ? Number(m[4]) : secure ? 443 : 80 };
}
