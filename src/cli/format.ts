import { STATUS_LABELS, type ConnectionDetails, type ConnectionSummary, type TunnelList } from '../shared/api.js';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** A plain text table: columns padded to their widest cell. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(headers), ...rows.map(line)].join('\n');
}

export function connectionsTable(list: ConnectionSummary[], live: boolean): string {
  return table(
    ['NAME', 'NAMESPACE', 'ENDPOINT', 'STATUS', 'ACTIVE', 'TOTAL', 'TO ENDPOINT', 'FROM ENDPOINT'],
    list.map((c) => [
      c.demo ? `${c.name} (demo)` : c.name,
      c.namespace,
      c.endpoint,
      (live ? STATUS_LABELS[c.status] : 'agent not running') + (c.endpointChange ? ' (endpoint changed in Azure)' : ''),
      String(c.counters.activeConnections),
      String(c.counters.totalConnections),
      formatBytes(c.counters.bytesToEndpoint),
      formatBytes(c.counters.bytesFromEndpoint),
    ]),
  );
}

export function connectionDetails(c: ConnectionDetails, live: boolean): string {
  const rows: Array<[string, string]> = [
    ['Name', c.name],
    ...(c.demo ? [['Demo', 'yes: a local relay on this machine and a built-in echo endpoint; never saved'] as [string, string]] : []),
    ['Namespace', c.namespace],
    ['Endpoint', `${c.endpoint} (${c.endpointSource === 'metadata' ? 'from Hybrid Connection metadata' : 'set by hand'})`],
    ...(c.endpointChange
      ? [
          [
            'Endpoint in Azure',
            `endpoint changed in Azure: ${c.endpointChange.from} → ${c.endpointChange.to} (seen ${c.endpointChange.seenAt}); ${c.endpointChange.from} stays in use until you accept: hcm endpoint accept ${c.name}`,
          ] as [string, string],
        ]
      : []),
    ['Status', live ? `${STATUS_LABELS[c.status]} since ${c.statusSince}` : 'agent not running'],
    ['Service Bus address', c.serviceBusAddress],
    ['Key name', c.keyName ?? '(SharedAccessSignature)'],
    ['Created', c.createdAt ?? 'unknown'],
    ['Last updated', c.updatedAt ?? 'unknown'],
    ['Listeners', c.listenerCount === null ? 'unknown' : `${c.listenerCount} (all agents on this Hybrid Connection)`],
    [
      'Client authorization',
      c.requiresClientAuthorization === null ? 'unknown' : c.requiresClientAuthorization ? 'required' : 'NOT required',
    ],
    ['Last error', c.lastError ? `${c.lastError.message} (${c.lastError.at})` : 'none'],
    ['Connections', `${c.counters.activeConnections} active, ${c.counters.totalConnections} total, ${c.counters.failedConnections} failed`],
    ['Traffic', `${formatBytes(c.counters.bytesToEndpoint)} to endpoint, ${formatBytes(c.counters.bytesFromEndpoint)} from endpoint`],
    ['Last connection', c.counters.lastConnectionAt ?? 'never'],
    ['Added', c.addedAt],
    ...clockRows(c),
    ...relayHostRows(c, live),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`.trimEnd()).join('\n');
}

/** This machine's clock against the relay's, when a Date header of the relay was seen. */
function clockRows(c: ConnectionDetails): Array<[string, string]> {
  if (c.clockProblem) return [['Clock', `${c.clockProblem}: set the clock right (NTP)`]];
  if (c.clockSkewSeconds === undefined || c.clockSkewSeconds === null) return [];
  return [['Clock', `within a minute of the relay's (${c.clockSkewSeconds >= 0 ? '+' : ''}${c.clockSkewSeconds} s)`]];
}

/**
 * The relay hosts the agent connected to, one per line with port, use and last use: what a
 * firewall must let through (outbound TCP), ready to copy.
 */
function relayHostRows(c: ConnectionDetails, live: boolean): Array<[string, string]> {
  const used = c.gateways ?? [];
  if (used.length === 0) {
    if (c.gatewayHosts === undefined) return [];
    return [['Relay hosts', live ? 'none recorded yet (each is noted as the agent connects)' : 'recorded by a running agent only']];
  }
  const hostWidth = Math.max(...used.map((g) => `${g.host}:${g.port}`.length));
  const rows = used.map((g, i): [string, string] => [
    i === 0 ? 'Relay hosts' : '',
    `${`${g.host}:${g.port}`.padEnd(hostWidth)}  ${g.role === 'control' ? 'control channel' : 'rendezvous'}, last ${g.lastSeen}`,
  ]);
  const ports = [...new Set(used.map((g) => g.port))].join(', ');
  return [...rows, ['', `(allow outbound TCP ${ports} to each; hcm test ${c.name} checks them)`]];
}

/** Seconds, minutes or hours, whichever reads best: 42 s, 3 min 5 s, 2 h 10 min. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** The live connection inspector as a table: one row per open tunnel. */
export function tunnelsTable(list: TunnelList): string {
  if (list.total === 0) return `no open connections on ${list.connectionId}`;
  const at = Date.parse(list.at);
  const rows = list.tunnels.map((t) => [
    t.id,
    t.sender ?? 'unknown',
    formatAge(at - Date.parse(t.openedAt)),
    formatBytes(t.bytesToEndpoint),
    formatBytes(t.bytesFromEndpoint),
    t.endpointAddress && t.endpointAddress !== t.endpoint ? `${t.endpoint} (${t.endpointAddress})` : t.endpoint,
  ]);
  const more = list.total > list.tunnels.length ? `\n… and ${list.total - list.tunnels.length} more (oldest shown first)` : '';
  return `${table(['ID', 'FROM', 'AGE', 'TO ENDPOINT', 'FROM ENDPOINT', 'ENDPOINT'], rows)}${more}`;
}
