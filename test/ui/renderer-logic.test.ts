import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startUiServer, type UiServer } from '../../src/cli/ui-server.js';
import { takeToken } from '../../src/renderer/host/token.js';
import { type LinkState, connectWebSocketHost } from '../../src/renderer/host/websocket-host.js';
import { endpointProblem } from '../../src/renderer/endpoint-input.js';
import { formatBytes, formatClock, formatDuration, formatLogTime } from '../../src/renderer/format.js';
import { clockText, gatewayRows } from '../../src/renderer/gateways.js';
import { stepOutcome, testOutcomeText } from '../../src/renderer/test-outcome.js';
import { newerTunnels, tunnelAgeMs, tunnelsHeading } from '../../src/renderer/tunnels.js';
import { describeUpdate, updateBanner, updatedNotice } from '../../src/renderer/updates.js';
import { RECENT_FAILURE_MS, recentFailures, retryText, secondsToRetry } from '../../src/renderer/health.js';
import { forPeople, hideSecrets } from '../../src/renderer/messages.js';
import {
  filterConnections,
  nextSort,
  openTunnels,
  openTunnelsSentence,
  sortConnections,
  statusLine,
  windowTitle,
} from '../../src/renderer/state/connection-list.js';
import { filterLogs, logsAsText, mergeLogs } from '../../src/renderer/state/log-buffer.js';
import { describeStatusChanges } from '../../src/renderer/state/status-changes.js';
import { ArgumentError, isHcmMethod, validateArgs } from '../../src/shared/api-args.js';
import {
  HCM_METHODS,
  type ConnectionStatus,
  type ConnectionSummary,
  type HcmHost,
  type HcmEvent,
  type LogEntry,
} from '../../src/shared/api.js';
import { overallStatus } from '../../src/shared/overall-status.js';
import { HcmError } from '../../src/shared/errors.js';
import {
  addOutcomes,
  endpointChangeText,
  filterPickerItems,
  namesList,
  pickBlocker,
  progressText,
  progressValue,
  signInRequest,
} from '../../src/renderer/azure.js';
import { codeOf, codedError, errorHeading } from '../../src/renderer/errors.js';
import { proxyCredentialsProblem, proxyFormOf, proxyInputOf, proxyUrlProblem } from '../../src/renderer/proxy-input.js';
import type { ConnectionDetails, TunnelInfo, TunnelList, UpdateState } from '../../src/shared/api.js';
import { waitFor } from '../helpers/emulator.js';
import { aPickerItem } from '../helpers/picker-items.js';
import { aSummary } from '../helpers/summaries.js';

/** The renderer's plain logic and the contract helpers it shares with the hosts. */

const log = (seq: number, level: LogEntry['level'] = 'info', message = `m${seq}`, connection?: string): LogEntry => ({
  seq,
  time: '2026-01-01T10:00:00.000Z',
  level,
  message,
  ...(connection ? { connection } : {}),
});

const conn = (name: string, status: ConnectionStatus): ConnectionSummary => aSummary({ name, status });

describe('log buffer', () => {
  it('appends in order, drops duplicates, sorts stragglers and keeps the newest within capacity', () => {
    expect(mergeLogs([log(1), log(2)], [log(3)]).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(mergeLogs([log(1), log(3)], [log(2), log(3)]).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(mergeLogs([log(1), log(2)], [log(3), log(4)], 3).map((e) => e.seq)).toEqual([2, 3, 4]);
  });

  it('filters by level, connection and text (case-insensitive)', () => {
    const lines = [
      log(1, 'debug'),
      log(2, 'info', 'Listening'),
      log(3, 'warn', 'control channel lost', 'ns/a'),
      log(4, 'error', 'refused', 'ns/b'),
    ];
    expect(filterLogs(lines, { minLevel: 'info', connections: [], text: '' }).map((e) => e.seq)).toEqual([2, 3, 4]);
    expect(filterLogs(lines, { minLevel: 'warn', connections: [], text: '' }).map((e) => e.seq)).toEqual([3, 4]);
    expect(filterLogs(lines, { minLevel: 'debug', connections: ['ns/a'], text: '' }).map((e) => e.seq)).toEqual([3]);
    expect(filterLogs(lines, { minLevel: 'debug', connections: ['ns/a', 'ns/b'], text: '' }).map((e) => e.seq)).toEqual([3, 4]);
    expect(filterLogs(lines, { minLevel: 'debug', connections: [], text: 'LISTEN' }).map((e) => e.seq)).toEqual([2]);
  });

  it('copies as one line per entry', () => {
    expect(logsAsText([log(1, 'warn', 'lost', 'ns/a'), log(2, 'info', 'hi')])).toBe(
      '2026-01-01T10:00:00.000Z WARN  [ns/a] lost\n2026-01-01T10:00:00.000Z INFO  hi',
    );
  });
});

describe('formatting and checks', () => {
  it('formats byte counts for people', () => {
    expect([0, 999, 1024, 10_000, 5 * 1024 ** 2, 3.5 * 1024 ** 3, -1].map(formatBytes)).toEqual([
      '0 B',
      '999 B',
      '1.0 KB',
      '9.8 KB',
      '5.0 MB',
      '3.5 GB',
      '—',
    ]);
  });

  it('explains what is wrong with a typed endpoint', () => {
    expect(endpointProblem('db.internal:5432')).toBeNull();
    expect(endpointProblem('[::1]:6379')).toBeNull();
    expect(endpointProblem('')).toMatch(/host:port/);
    expect(endpointProblem('db.internal')).toMatch(/port after a colon/);
    expect(endpointProblem('::1:80')).toMatch(/IPv6 address in brackets/);
    expect(endpointProblem('tcp://db:1')).toMatch(/no scheme/);
    expect(endpointProblem('db:70000')).toMatch(/1 to 65535/);
  });

  it('hides key-like text and signatures in messages, and capitalises them', () => {
    expect(hideSecrets('part "XKv4zZ0b5hd3q8d2mD6e7sVb…" has no "="')).toBe('part "••••…" has no "="');
    expect(hideSecrets('token sr=x&sig=abc%2Bdef&se=1')).toBe('token sr=x&sig=••••&se=1');
    expect(hideSecrets('Endpoint=sb://a/;SharedAccessKey=short;EntityPath=b')).toBe('Endpoint=sb://a/;SharedAccessKey=••••;EntityPath=b');
    // Long words without digits are names, not keys.
    expect(hideSecrets('SharedAccessKeyNameSharedAccessKey is unknown')).toBe('SharedAccessKeyNameSharedAccessKey is unknown');
    expect(forPeople('connection refused')).toBe('Connection refused');
  });

  it('announces status changes in words', () => {
    expect(describeStatusChanges([conn('a', 'Connected')], [conn('a', 'NotConnected'), conn('b', 'Connecting')])).toEqual([
      'a is now Not connected.',
      'b added, Connecting.',
    ]);
    expect(describeStatusChanges([conn('a', 'Connected')], [])).toEqual(['a removed.']);
  });

  it('sums up all connections in one state', () => {
    expect(overallStatus([])).toMatchObject({ state: 'empty', label: 'No connections' });
    expect(overallStatus([conn('a', 'Connected')])).toMatchObject({ state: 'connected', label: 'Connected' });
    expect(overallStatus([conn('a', 'Connected'), conn('b', 'Connected')])).toMatchObject({ state: 'connected', label: 'All 2 connected' });
    expect(overallStatus([conn('a', 'Connected'), conn('b', 'Connecting')])).toMatchObject({
      state: 'connecting',
      label: '1 of 2 connected',
    });
    expect(overallStatus([conn('a', 'Connected'), conn('b', 'Unauthorized')])).toMatchObject({ state: 'degraded' });
    expect(overallStatus([conn('a', 'NotFound'), conn('b', 'Connecting')])).toMatchObject({ state: 'down', label: '0 of 2 connected' });
  });
});

describe('health beyond the status word', () => {
  const now = Date.parse('2026-01-05T14:00:00.000Z');
  const at = (msBefore: number) => new Date(now - msBefore).toISOString();
  const failing = (change: Partial<ConnectionSummary> = {}): ConnectionSummary => ({
    ...conn('orders', 'Connected'),
    statusSince: at(3_600_000),
    lastError: { message: 'connection not bridged: connect ECONNREFUSED', at: at(60_000) },
    counters: { ...conn('x', 'Connected').counters, totalConnections: 9, failedConnections: 2 },
    ...change,
  });

  it('marks a Connected connection whose apps’ connections failed lately, not an old outage or an old failure', () => {
    expect(recentFailures(failing(), now)).toEqual({
      failed: 2,
      total: 9,
      message: 'connection not bridged: connect ECONNREFUSED',
      at: at(60_000),
    });
    // The error is from before the channel came back: the outage, not an endpoint failure.
    expect(recentFailures(failing({ statusSince: at(30_000) }), now)).toBeNull();
    expect(recentFailures(failing({ lastError: { message: 'x', at: at(RECENT_FAILURE_MS + 1000) } }), now)).toBeNull();
    expect(recentFailures(failing({ counters: { ...failing().counters, failedConnections: 0 } }), now)).toBeNull();
    expect(recentFailures(failing({ status: 'NotConnected' }), now)).toBeNull();
  });

  it('counts down to the next try in seconds, then minutes', () => {
    expect(secondsToRetry(null, now)).toBeNull();
    expect(secondsToRetry(new Date(now + 41_200).toISOString(), now)).toBe(42);
    expect(secondsToRetry(new Date(now - 5000).toISOString(), now)).toBe(0);
    expect(retryText(0)).toBe('Retrying now…');
    expect(retryText(42)).toBe('Retrying in 42 s');
    expect(retryText(119)).toBe('Retrying in 119 s');
    expect(retryText(120)).toBe('Retrying in 2 min');
    expect(retryText(305)).toBe('Retrying in 5 min 5 s');
  });
});

describe('the connections list', () => {
  const withCounters = (c: ConnectionSummary, active: number, bytes: number): ConnectionSummary => ({
    ...c,
    counters: { ...c.counters, activeConnections: active, bytesToEndpoint: bytes, bytesFromEndpoint: bytes },
  });
  const list = [
    withCounters(conn('orders', 'Connected'), 2, 10),
    withCounters(conn('Billing', 'Unauthorized'), 0, 500),
    withCounters(conn('inventory', 'Connecting'), 5, 0),
    { ...conn('echo', 'NotConnected'), namespace: 'local-demo', id: 'local-demo/echo', demo: true },
  ];
  const names = (l: ConnectionSummary[]) => l.map((c) => c.name);

  it('sorts by any column, both ways, ties by name', () => {
    expect(names(sortConnections(list, { column: 'name', direction: 'ascending' }))).toEqual(['Billing', 'echo', 'inventory', 'orders']);
    expect(names(sortConnections(list, { column: 'name', direction: 'descending' }))).toEqual(['orders', 'inventory', 'echo', 'Billing']);
    expect(names(sortConnections(list, { column: 'status', direction: 'descending' }))).toEqual(['Billing', 'echo', 'inventory', 'orders']);
    expect(names(sortConnections(list, { column: 'active', direction: 'descending' }))).toEqual(['inventory', 'orders', 'Billing', 'echo']);
    expect(names(sortConnections(list, { column: 'traffic', direction: 'descending' }))).toEqual([
      'Billing',
      'orders',
      'echo',
      'inventory',
    ]);
    expect(names(sortConnections(list, { column: 'namespace', direction: 'ascending' }))).toEqual([
      'echo',
      'Billing',
      'inventory',
      'orders',
    ]);
    expect(nextSort({ column: 'name', direction: 'ascending' }, 'name')).toEqual({ column: 'name', direction: 'descending' });
    expect(nextSort({ column: 'name', direction: 'descending' }, 'status')).toEqual({ column: 'status', direction: 'ascending' });
  });

  it('filters on every word typed, in name, namespace, endpoint, status and "demo"', () => {
    expect(names(filterConnections(list, ''))).toEqual(names(list));
    expect(names(filterConnections(list, 'BILL'))).toEqual(['Billing']);
    expect(names(filterConnections(list, 'not connected'))).toEqual(['echo']);
    expect(names(filterConnections(list, 'demo'))).toEqual(['echo']);
    expect(names(filterConnections(list, 'ns connect'))).toEqual(['orders', 'inventory']);
    expect(names(filterConnections(list, 'nothing-like-this'))).toEqual([]);
  });

  it('counts the open tunnels a restart or remove would close', () => {
    expect(openTunnels(list)).toBe(7);
    expect(openTunnelsSentence(1)).toBe('1 open connection will be closed.');
    expect(openTunnelsSentence(3)).toBe('3 open connections will be closed.');
  });

  it('sums up real connections and the demo apart, and nothing but "not reachable" when the host is gone', () => {
    expect(statusLine([], null)).toBe('');
    expect(statusLine(list.slice(0, 1), null)).toBe('Connected');
    expect(statusLine(list, null)).toBe('1 of 3 connected, Demo not connected');
    expect(statusLine(list.slice(3), null)).toBe('Demo not connected');
    expect(statusLine(list, '14:05')).toBe('Agent not reachable since 14:05');
    expect(windowTitle('web01', 'Connected')).toBe('web01 · Connected — Hybrid Connection Manager');
    expect(windowTitle('web01', '')).toBe('web01 — Hybrid Connection Manager');
    expect(windowTitle(null, '')).toBe('Hybrid Connection Manager');
  });

  it('writes log times with the date, in local time, and clock times with 24 hours', () => {
    const local = new Date(2026, 0, 5, 0, 3, 9);
    expect(formatLogTime(local.toISOString())).toBe('2026-01-05 00:03:09');
    expect(formatClock(local.toISOString())).toMatch(/^00.03$/);
    expect(formatLogTime('not a time')).toBe('not a time');
  });
});

describe('contract arguments', () => {
  it('knows the contract methods and nothing else', () => {
    for (const m of HCM_METHODS) expect(isHcmMethod(m)).toBe(true);
    for (const m of ['on', 'start', 'stop', 'constructor', '__proto__', 'toString', 42, null]) expect(isHcmMethod(m)).toBe(false);
  });

  it('accepts the shapes of the contract and names what is wrong otherwise', () => {
    expect(validateArgs('getLogs', [])).toEqual([]);
    expect(validateArgs('getLogs', [{ afterSeq: 0 }])).toEqual([{ afterSeq: 0 }]);
    expect(validateArgs('addConnection', [{ connectionString: 'x', endpoint: 'h:1' }])).toEqual([
      { connectionString: 'x', endpoint: 'h:1' },
    ]);
    expect(validateArgs('validateConnectionString', [''])).toEqual(['']);
    const wrong: Array<[Parameters<typeof validateArgs>[0], unknown, RegExp]> = [
      ['getConnection', [], /expected 1 argument/],
      ['getConnection', [''], /id must not be empty/],
      ['getConnection', ['x'.repeat(301)], /longer than 300/],
      ['addConnection', [null], /input must be an object/],
      ['addConnection', [['x']], /input must be an object/],
      ['addConnection', [{ connectionString: 1 }], /connectionString must be a string/],
      ['addConnection', [{ connectionString: 'x', endpoint: '' }], /endpoint must not be empty/],
      ['getLogs', [{ afterSeq: 1.5 }], /afterSeq must be a whole number/],
      ['getLogs', [{ limit: 0 }], /limit must be a whole number from 1/],
      ['getLogs', [{ level: 'x' }], /unexpected field "level"/],
      ['listConnections', ['extra'], /expected 0 argument/],
      ['listConnections', {}, /must be a list/],
    ];
    for (const [method, args, message] of wrong) {
      expect(() => validateArgs(method, args), `${method} ${JSON.stringify(args)}`).toThrow(message);
      expect(() => validateArgs(method, args)).toThrow(ArgumentError);
    }
  });
});

describe('token from the address', () => {
  it('moves the token from the fragment into session storage and off the address bar', () => {
    const stored = new Map<string, string>();
    const replaced: string[] = [];
    const place = {
      location: { hash: '#token=abc_DEF-1', pathname: '/', search: '' },
      storage: { getItem: (k: string) => stored.get(k) ?? null, setItem: (k: string, v: string) => void stored.set(k, v) },
      history: { replaceState: (_s: unknown, _t: string, url?: string | URL | null) => void replaced.push(String(url)) },
    };
    expect(takeToken(place)).toBe('abc_DEF-1');
    expect(replaced).toEqual(['/']);
    // A reload has no fragment any more, but the same tab still knows the token.
    expect(takeToken({ ...place, location: { hash: '', pathname: '/', search: '' } })).toBe('abc_DEF-1');
    expect(
      takeToken({
        ...place,
        location: { hash: '', pathname: '/', search: '' },
        storage: { getItem: () => null, setItem: () => undefined },
      }),
    ).toBeNull();
  });
});

describe('WebSocket hcm against the real browser host', () => {
  let server: UiServer;
  const listeners = new Map<HcmEvent, Set<(p: unknown) => void>>();
  let listCalls = 0;
  const hcm = {
    ...Object.fromEntries(HCM_METHODS.map((m) => [m, async () => null])),
    listConnections: async () => (listCalls++, [conn('a', 'Connected')]),
    removeConnection: async (id: string) => {
      throw new Error(`no connection with id "${id}"`);
    },
    restartConnection: async (id: string) => {
      throw new HcmError('E_NO_CONNECTION', `no connection named "${id}"`);
    },
    on: (e: HcmEvent, l: (p: unknown) => void) => {
      listeners.set(e, (listeners.get(e) ?? new Set()).add(l));
      return () => listeners.get(e)?.delete(l);
    },
  } as unknown as HcmHost;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hcm-hcm-'));
    writeFileSync(join(dir, 'index.html'), '');
    server = await startUiServer({ hcm, staticDir: dir, token: 'tok' });
  });
  afterAll(() => server?.close());

  // The browser sends its Origin by itself; `ws` needs to be told.
  const socketFactory = (port: number) => (url: string) => new WebSocket(url, { headers: { Origin: `http://127.0.0.1:${port}` } }) as never;

  it('calls methods, queueing those made before the socket opens, and hears events', async () => {
    const client = connectWebSocketHost(`ws://127.0.0.1:${server.port}/ws?token=tok`, socketFactory(server.port));
    const states: LinkState[] = [];
    client.onLinkChange((s) => states.push(s));
    const early = client.listConnections();
    expect(await early).toEqual([conn('a', 'Connected')]);
    expect(client.linkState()).toBe('open');
    await expect(client.removeConnection('ns/x')).rejects.toThrow('no connection with id "ns/x"');
    const heard: unknown[] = [];
    const off = client.on('log', (p) => heard.push(p));
    listeners.get('log')!.forEach((l) => l(log(7)));
    await waitFor(() => heard.length === 1, 5000, 'the log event');
    off();
    listeners.get('log')!.forEach((l) => l(log(8)));
    await new Promise((r) => setTimeout(r, 100));
    expect(heard).toEqual([log(7)]);
    expect(states).toEqual(['open']);
    client.close();
  });

  it('reports a lost link when the host refuses it, and keeps retrying', async () => {
    const client = connectWebSocketHost(`ws://127.0.0.1:${server.port}/ws?token=wrong`, socketFactory(server.port));
    await waitFor(() => client.linkState() === 'lost', 10_000, 'the link to be reported lost');
    const pending = client.getAppInfo();
    client.close();
    // Calls made while down wait for the link rather than failing at once.
    const outcome = await Promise.race([
      pending.then(
        () => 'answered',
        () => 'failed',
      ),
      new Promise((r) => setTimeout(() => r('waiting'), 200)),
    ]);
    expect(outcome).toBe('waiting');
    expect(listCalls).toBe(1);
  });

  it('rejects with the code of the reply, so the page can choose its words by it', async () => {
    const client = connectWebSocketHost(`ws://127.0.0.1:${server.port}/ws?token=tok`, socketFactory(server.port));
    const refused = await client.restartConnection('ns/x').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(Error);
    expect(refused).toMatchObject({ message: 'no connection named "ns/x"', code: 'E_NO_CONNECTION' });
    expect(errorHeading(refused, 'Could not restart x')).toBe('No such connection');
    // An error not raised on purpose comes as E_INTERNAL.
    const plain = await client.removeConnection('ns/x').catch((err: unknown) => err);
    expect(codeOf(plain)).toBe('E_INTERNAL');
    client.close();
  });
});

describe('errors by code', () => {
  it('keeps known codes only, and heads with the code title or else what failed', () => {
    expect(codedError('refused', 'E_UNAUTHORIZED').code).toBe('E_UNAUTHORIZED');
    expect(codedError('odd', 'E_NOPE').code).toBeUndefined();
    expect(codeOf(new Error('x'))).toBeNull();
    expect(errorHeading(codedError('m', 'E_TIMEOUT'), 'Could not test')).toBe('Timed out');
    expect(errorHeading(new Error('m'), 'Could not test')).toBe('Could not test');
  });

  it('rejects calls in flight when the link drops with E_UNAVAILABLE', async () => {
    const sockets: Array<{ onopen: (() => void) | null; onclose: (() => void) | null }> = [];
    const client = connectWebSocketHost('ws://127.0.0.1:1/ws', () => {
      const s = {
        readyState: 1,
        send: () => undefined,
        close: () => undefined,
        onopen: null,
        onclose: null,
        onmessage: null,
        onerror: null,
      };
      sockets.push(s);
      return s;
    });
    sockets[0]!.onopen!();
    const pending = client.getAppInfo().catch((err: unknown) => err);
    client.close();
    sockets[0]!.onclose!();
    expect(codeOf(await pending)).toBe('E_UNAVAILABLE');
  });
});

describe('Azure sign-in and picker logic', () => {
  it('asks for a cloud or tenant only when the person changed it (a configured custom cloud stays)', () => {
    const state = { cloud: 'custom' as const, tenant: 'organizations' };
    expect(signInRequest(state, { cloud: 'custom', tenant: 'organizations' })).toEqual({});
    expect(signInRequest(state, { cloud: 'custom', tenant: ' ' })).toEqual({});
    expect(signInRequest(state, { cloud: 'usgov', tenant: 'contoso.com' })).toEqual({ cloud: 'usgov', tenant: 'contoso.com' });
    expect(signInRequest(null, { cloud: 'public', tenant: 'organizations' })).toEqual({});
  });

  it('says how far the listing is', () => {
    expect(progressText(null)).toBe('Asking Azure…');
    expect(progressText({ stage: 'namespaces', done: 2, total: 5 })).toBe('Reading Relay namespaces: 2 of 5…');
    expect(progressText({ stage: 'tenants', done: 0, total: 0 })).toBe('Reading your tenants…');
    expect(progressValue({ stage: 'namespaces', done: 2, total: 5 })).toBe(0.4);
    expect(progressValue({ stage: 'tenants', done: 0, total: 0 })).toBeUndefined();
  });

  it('filters by every word over the columns, and tells why a row cannot be picked', () => {
    const items = [
      aPickerItem('contoso', 'orders', { apps: ['orders-web'] }),
      aPickerItem('fabrikam', 'billing', { region: 'North Europe' }),
      aPickerItem('contoso', 'legacy', { endpoint: null, disabledReason: 'No endpoint configured' }),
    ];
    expect(filterPickerItems(items, '').map((i) => i.name)).toEqual(['orders', 'billing', 'legacy']);
    expect(filterPickerItems(items, 'north').map((i) => i.name)).toEqual(['billing']);
    expect(filterPickerItems(items, 'contoso WEB').map((i) => i.name)).toEqual(['orders']);
    expect(pickBlocker(items[2]!, new Set())).toBe('No endpoint configured');
    expect(pickBlocker(items[0]!, new Set(['contoso/orders']))).toBe('Already added');
    expect(pickBlocker(items[1]!, new Set(['contoso/orders']))).toBeNull();
  });

  it('words the outcome of Add and the endpoint change', () => {
    const sel = { tenantId: 't', subscriptionId: 's', resourceGroup: 'rg', namespace: 'contoso', name: 'orders' };
    expect(
      addOutcomes([
        { selection: sel, ok: true, id: 'contoso/orders' },
        { selection: { ...sel, name: 'x' }, ok: false, error: 'no' },
      ]),
    ).toEqual([
      { name: 'orders', namespace: 'contoso', ok: true, detail: 'contoso/orders' },
      { name: 'x', namespace: 'contoso', ok: false, detail: 'no' },
    ]);
    expect(namesList(['a'])).toBe('a');
    expect(namesList(['a', 'b'])).toBe('a and b');
    expect(namesList(['a', 'b', 'c'])).toBe('3 Hybrid Connections');
    expect(endpointChangeText({ from: 'a:1', to: 'b:2' })).toBe('Endpoint changed in Azure: a:1 → b:2');
  });
});

describe('the proxy form', () => {
  it('accepts "direct", http://host:port and host:port; refuses other schemes, credentials in the address and paths', () => {
    expect(proxyUrlProblem('direct')).toBeNull();
    expect(proxyUrlProblem('http://proxy:3128')).toBeNull();
    expect(proxyUrlProblem('proxy.contoso.local:8080')).toBeNull();
    expect(proxyUrlProblem('')).toMatch(/^Enter the proxy address/);
    expect(proxyUrlProblem('https://proxy:3128')).toMatch(/^Only http:\/\/ proxies/);
    expect(proxyUrlProblem('http://bob:pw@proxy:3128')).toMatch(/own fields/);
    expect(proxyUrlProblem('http://proxy:3128/path')).toMatch(/nothing after the port/);
  });

  it('wants the password again with a user name, and sends only what was given', () => {
    expect(proxyCredentialsProblem({ username: 'alice', password: '' })).toMatch(/^Enter the password/);
    expect(proxyCredentialsProblem({ username: '', password: 'x' })).toBe('A password needs a user name.');
    expect(proxyCredentialsProblem({ username: '', password: '' })).toBeNull();
    expect(proxyInputOf({ url: ' http://p:1 ', noProxy: '.internal, 10.0.0.5  localhost', username: '', password: '' })).toEqual({
      url: 'http://p:1',
      noProxy: ['.internal', '10.0.0.5', 'localhost'],
    });
    expect(proxyInputOf({ url: 'http://p:1', noProxy: '', username: ' alice ', password: 'pw' })).toEqual({
      url: 'http://p:1',
      username: 'alice',
      password: 'pw',
    });
  });

  it('starts from the saved setting, never its password; the environment is not a setting', () => {
    const env = {
      description: 'http://e:1 (from the environment)',
      source: 'environment' as const,
      url: null,
      noProxy: ['x'],
      username: 'u',
      environment: '',
    };
    expect(proxyFormOf(env)).toEqual({ url: '', noProxy: '', username: '', password: '' });
    const set = {
      description: '',
      source: 'setting' as const,
      url: 'http://p:1',
      noProxy: ['a', 'b'],
      username: 'alice',
      environment: 'none',
    };
    expect(proxyFormOf(set)).toEqual({ url: 'http://p:1', noProxy: 'a, b', username: 'alice', password: '' });
  });
});

describe('updates, open connections, gateways and test warnings', () => {
  const desktop = { kind: 'desktop', command: null, description: 'The app updates itself.' } as const;
  const npm = { kind: 'npm-global', command: 'npm install -g open-hcm@0.2.0', description: 'Installed with npm.' } as const;
  const offered = { version: '0.2.0', notes: '  Faster.\n', releaseDate: null };

  it('makes a banner of available, downloading and ready only, unless dismissed for that version', () => {
    const quiet: UpdateState[] = [
      { state: 'idle', currentVersion: '0.1.0' },
      { state: 'checking', currentVersion: '0.1.0' },
      { state: 'up-to-date', currentVersion: '0.1.0', checkedAt: '2026-01-01T00:00:00Z' },
      { state: 'unsupported', currentVersion: '0.1.0', reason: 'off' },
      { state: 'error', currentVersion: '0.1.0', message: 'down' },
    ];
    for (const u of quiet) expect(updateBanner(u, null, 'browser'), u.state).toBeNull();
    expect(updateBanner(null, null, null)).toBeNull();

    const cli = updateBanner({ state: 'available', currentVersion: '0.1.0', howToUpdate: npm, ...offered }, null, 'browser');
    expect(cli).toMatchObject({ kind: 'available', selfUpdating: false, command: npm.command, notes: 'Faster.', dismissKey: '0.2.0' });
    const app = updateBanner({ state: 'available', currentVersion: '0.1.0', howToUpdate: desktop, ...offered }, null, 'electron');
    expect(app).toMatchObject({ selfUpdating: true, command: null });
    // A host that does not say how it is updated: the desktop app downloads by itself, others do not.
    expect(updateBanner({ state: 'available', currentVersion: '0.1.0', ...offered }, null, 'electron')).toMatchObject({
      selfUpdating: true,
    });
    expect(updateBanner({ state: 'available', currentVersion: '0.1.0', ...offered }, null, 'agent')).toMatchObject({ selfUpdating: false });

    const downloading: UpdateState = { state: 'downloading', currentVersion: '0.1.0', ...offered, percent: 142 };
    expect(updateBanner(downloading, null, 'electron')).toMatchObject({ kind: 'downloading', percent: 100 });
    expect(updateBanner(downloading, '0.2.0', 'electron')).toBeNull();
    const ready: UpdateState = { state: 'ready', currentVersion: '0.1.0', ...offered };
    expect(updateBanner(ready, '0.2.0', 'electron')).toMatchObject({ kind: 'ready', dismissKey: '0.2.0 ready' });
    expect(updateBanner(ready, '0.2.0 ready', 'electron')).toBeNull();
    // A newer version is a new banner.
    expect(updateBanner({ state: 'available', currentVersion: '0.1.0', ...offered, version: '0.3.0' }, '0.2.0', 'browser')).not.toBeNull();
  });

  it('says "Updated to X" once, and About never says a CLI host is downloading', () => {
    const after: UpdateState = { state: 'idle', currentVersion: '0.2.0', updatedFrom: '0.1.0' };
    expect(updatedNotice(after, null)).toEqual({ version: '0.2.0', from: '0.1.0' });
    expect(updatedNotice(after, '0.2.0')).toBeNull();
    expect(updatedNotice({ state: 'idle', currentVersion: '0.2.0' }, null)).toBeNull();

    const cli: UpdateState = { state: 'available', currentVersion: '0.1.0', howToUpdate: npm, ...offered };
    expect(describeUpdate(cli, 'browser')).toBe('Version 0.2.0 is available (this is 0.1.0). Installed with npm. Update with:');
    expect(describeUpdate({ ...cli, howToUpdate: { ...npm, command: null } }, 'agent')).toBe(
      'Version 0.2.0 is available (this is 0.1.0). Installed with npm.',
    );
    expect(describeUpdate({ ...cli, howToUpdate: desktop }, 'electron')).toBe('Version 0.2.0 is available; it is being downloaded.');
  });

  it('ages tunnels by the host clock, and keeps the newer list', () => {
    const list: TunnelList = { connectionId: 'ns/a', tunnels: [], total: 0, at: '2026-01-01T10:00:10.000Z' };
    const t = { openedAt: '2026-01-01T10:00:00.000Z' } as TunnelInfo;
    // The browser's clock is far off: only the time since the list came counts.
    const received = { list, receivedAt: 5_000_000 };
    expect(tunnelAgeMs(t, received, 5_000_000)).toBe(10_000);
    expect(tunnelAgeMs(t, received, 5_003_500)).toBe(13_500);
    expect(formatDuration(tunnelAgeMs(t, received, 5_003_500))).toBe('13 s');
    const older = { list: { ...list, at: '2026-01-01T10:00:09.000Z' }, receivedAt: 6_000_000 };
    expect(newerTunnels(received, older)).toBe(received);
    expect(newerTunnels(older, received)).toBe(received);
    expect(newerTunnels(null, older)).toBe(older);
    expect(tunnelsHeading({ ...list, total: 0 }, 100)).toBe('None open');
    expect(tunnelsHeading({ ...list, total: 3 }, 100)).toBe('3 open');
    expect(tunnelsHeading({ ...list, total: 523 }, 100)).toBe('Showing the 100 oldest of 523 open');
    expect([59_999, 61_000, 3_725_000, 97_200_000].map(formatDuration)).toEqual(['59 s', '1 min 01 s', '1 h 02 min', '1 d 3 h']);
  });

  it('lists gateways with their use and latest time, and says the clock plainly', () => {
    const d = {
      gatewayHosts: ['ns.servicebus.windows.net', 'g1.servicebus.windows.net'],
      gateways: [
        { host: 'ns.servicebus.windows.net', port: 443, role: 'control', lastSeen: '2026-01-01T10:00:00.000Z' },
        { host: 'g1.servicebus.windows.net', port: 443, role: 'rendezvous', lastSeen: '2026-01-01T09:00:00.000Z' },
        { host: 'g1.servicebus.windows.net', port: 9350, role: 'rendezvous', lastSeen: '2026-01-01T11:00:00.000Z' },
      ],
    } as unknown as ConnectionDetails;
    expect(gatewayRows(d)).toEqual([
      { host: 'ns.servicebus.windows.net', roles: ['control'], lastSeen: '2026-01-01T10:00:00.000Z' },
      { host: 'g1.servicebus.windows.net', roles: ['rendezvous'], lastSeen: '2026-01-01T11:00:00.000Z' },
    ]);
    // Names from `gateways` alone; nothing from an older host; a malformed list is left out.
    expect(gatewayRows({ ...d, gatewayHosts: undefined })?.map((g) => g.host)).toEqual([
      'ns.servicebus.windows.net',
      'g1.servicebus.windows.net',
    ]);
    expect(gatewayRows({} as ConnectionDetails)).toBeNull();
    expect(gatewayRows({ gatewayHosts: ['ok', 42] } as unknown as ConnectionDetails)).toBeNull();
    expect(gatewayRows(null)).toBeNull();

    expect(clockText(undefined)).toBeNull();
    expect(clockText(null)).toBeNull();
    expect(clockText(0.6)).toBe('in step with the relay');
    expect(clockText(125)).toBe('2 min 05 s ahead of the relay');
    expect(clockText(-40)).toBe('40 s behind the relay');

    const step = { name: 'Clock', ok: true, detail: '', ms: 1 };
    expect([stepOutcome(step), stepOutcome({ ...step, warning: true }), stepOutcome({ ...step, ok: false, warning: true })]).toEqual([
      'passed',
      'warning',
      'failed',
    ]);
    expect(testOutcomeText({ target: 'x', ok: true, steps: [step] })).toBe('passed');
    expect(testOutcomeText({ target: 'x', ok: true, steps: [{ ...step, warning: true }] })).toBe('passed with a warning');
    expect(
      testOutcomeText({
        target: 'x',
        ok: true,
        steps: [
          { ...step, warning: true },
          { ...step, name: 'B', warning: true },
        ],
      }),
    ).toBe('passed with 2 warnings');
    expect(testOutcomeText({ target: 'x', ok: false, steps: [{ ...step, warning: true }] })).toBe('failed');
  });
});
