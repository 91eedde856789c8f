import { join } from 'node:path';
import { startUiServer, type UiServer } from '../../../src/cli/ui-server.js';
import type {
  AppInfo,
  AzureState,
  ConnectionDetails,
  ConnectionStatus,
  ConnectionSummary,
  HcmApi,
  HcmEvents,
  HcmHost,
  LogEntry,
  LogLevel,
  ProxyInput,
  ProxyState,
  TestResult,
  TrafficResult,
  TunnelList,
} from '../../../src/shared/api.js';
import { EventListeners } from '../../../src/shared/event-listeners.js';
import { ROOT } from '../../helpers/paths.js';
import { aSummary } from '../../helpers/summaries.js';

/**
 * The real browser host (startUiServer, the same server `hcm ui` runs) in front of a scripted
 * service: the tests decide every status, error text and counter, and can take the host away and
 * bring it back on the same port with the same token (as a restarted agent under an open tab).
 */

export interface FakeConnection extends ConnectionSummary {
  /** Extra fields getConnection answers with, e.g. ones the contract may carry later. */
  extra?: Record<string, unknown>;
}

export interface FakeHost {
  url: string;
  port: number;
  token: string;
  hcm: HcmHost;
  /** Every method call the page made, in order. */
  calls: Array<{ method: string; args: unknown[] }>;
  connections(): FakeConnection[];
  /** Replaces the list and sends it to the page, as the service does after any change. */
  setConnections(list: FakeConnection[]): void;
  update(id: string, change: Partial<FakeConnection>): void;
  log(message: string, level?: LogEntry['level'], connection?: string): void;
  /** Replaces one method's behaviour (calls are still recorded). */
  script<M extends keyof HcmApi>(method: M, fn: HcmApi[M]): void;
  /** The log level getLogLevel answers with (setLogLevel changes it). */
  logLevel(): LogLevel;
  /** Pushes an event to every page, as the service does. */
  emit<E extends keyof HcmEvents>(event: E, payload: HcmEvents[E]): void;
  /** The proxy setting as the scripted service keeps it (password included, for the test to check). */
  proxy(): { input: ProxyInput | null };
  /** Closes the server and every page's WebSocket. */
  stop(): Promise<void>;
  /** Serves again on the same port with the same token. */
  start(): Promise<void>;
}

export const FAKE_HOSTNAME = 'web01.contoso.local';

/** Nobody signed in to Azure (public cloud): what a host with Azure sign-in answers at first. */
export const SIGNED_OUT: AzureState = {
  cloud: 'public',
  cloudLabel: 'Azure (global)',
  tenant: 'organizations',
  account: null,
  signingIn: false,
  lastError: null,
  tokenStorage: '/home/admin/.config/open-hcm/azure-tokens.json (readable only by you, mode 0600; not encrypted)',
};

export function connection(name: string, status: ConnectionStatus = 'Connected', change: Partial<FakeConnection> = {}): FakeConnection {
  const namespace = change.namespace ?? 'contoso';
  return {
    ...aSummary({ name, namespace, status, endpoint: `${name}.internal:5432`, statusSince: new Date(Date.now() - 60_000).toISOString() }),
    ...change,
  };
}

export async function startFakeHost(initial: FakeConnection[] = [], options: { appInfo?: Partial<AppInfo> } = {}): Promise<FakeHost> {
  let list = initial.map((c) => ({ ...c }));
  const logs: LogEntry[] = [];
  const events = new EventListeners();
  const calls: FakeHost['calls'] = [];
  const scripted: Partial<Record<keyof HcmApi, (...args: never[]) => Promise<unknown>>> = {};
  let logLevel: LogLevel = 'info';
  let proxyInput: ProxyInput | null = null;
  const ENV_PROXY = 'none';
  const proxyState = (): ProxyState =>
    proxyInput
      ? {
          description:
            proxyInput.url === 'direct'
              ? 'none (direct, the setting ignores HTTPS_PROXY)'
              : `${proxyInput.url} (setting${proxyInput.username ? `, user ${proxyInput.username}` : ''})`,
          source: 'setting',
          url: proxyInput.url,
          noProxy: proxyInput.noProxy ?? [],
          username: proxyInput.username ?? null,
          environment: ENV_PROXY,
        }
      : { description: 'none', source: 'none', url: null, noProxy: [], username: null, environment: ENV_PROXY };
  const summary = ({ extra: _extra, ...c }: FakeConnection): ConnectionSummary => c;
  const emit = () => events.emit('connections', list.map(summary));
  const find = (id: string) => {
    const c = list.find((x) => x.id === id);
    if (!c) throw Object.assign(new Error(`no connection with id "${id}"`), { code: 'E_NOT_FOUND' });
    return c;
  };
  const log = (message: string, level: LogEntry['level'] = 'info', connection?: string) => {
    const entry: LogEntry = { seq: logs.length + 1, time: new Date().toISOString(), level, message, ...(connection ? { connection } : {}) };
    logs.push(entry);
    events.emit('log', entry);
  };
  // Built loosely and cast: the contract grows while the UI is worked on, and a field the UI does
  // not read yet should not break these tests.
  const details = (c: FakeConnection): ConnectionDetails =>
    ({
      ...summary(c),
      serviceBusAddress: `sb://${c.namespace}.servicebus.windows.net/`,
      keyName: 'defaultListener',
      createdAt: '2026-01-02T09:00:00.000Z',
      updatedAt: '2026-01-03T09:00:00.000Z',
      listenerCount: c.status === 'Connected' ? 1 : 0,
      requiresClientAuthorization: true,
      addedAt: '2026-01-04T09:00:00.000Z',
      endpointSource: 'metadata',
      azure: null,
      ...c.extra,
    }) as unknown as ConnectionDetails;

  const api = {
    getAppInfo: async (): Promise<AppInfo> => ({
      version: '0.1.0',
      hostname: FAKE_HOSTNAME,
      host: 'browser',
      platform: 'linux',
      configDir: '/home/admin/.config/open-hcm',
      logDir: '/home/admin/.local/state/open-hcm',
      ...options.appInfo,
    }),
    listConnections: async () => list.map(summary),
    getConnection: async (id: string) => details(find(id)),
    validateConnectionString: async () => ({ ok: false, stage: 'parse', error: 'not in this test' }),
    addConnection: async () => {
      throw new Error('not in this test');
    },
    removeConnection: async (id: string) => {
      find(id);
      list = list.filter((c) => c.id !== id);
      log('removed', 'info', id);
      emit();
    },
    restartConnection: async (id: string) => {
      find(id);
      log('restart requested', 'info', id);
    },
    replaceConnectionString: async (id: string) => {
      const c = find(id);
      log('connection string replaced (rule defaultListener); reconnecting with it', 'info', id);
      return details(c);
    },
    setEndpoint: async (id: string, endpoint: string) => {
      find(id);
      list = list.map((c) => (c.id === id ? { ...c, endpoint } : c));
      log(`endpoint changed by hand -> ${endpoint}`, 'info', id);
      emit();
      return details(find(id));
    },
    acceptEndpointChange: async (id: string) => {
      const c = find(id);
      if (!c.endpointChange) throw Object.assign(new Error('no endpoint change to accept'), { code: 'E_INVALID' });
      const to = c.endpointChange.to;
      list = list.map((x) => (x.id === id ? { ...x, endpoint: to, endpointChange: null } : x));
      log(`endpoint change accepted -> ${to}`, 'info', id);
      emit();
      return details(find(id));
    },
    getAzureState: async (): Promise<AzureState> => SIGNED_OUT,
    beginAzureSignIn: async () => {
      throw Object.assign(new Error('not in this test'), { code: 'E_UNSUPPORTED' });
    },
    signOutOfAzure: async () => undefined,
    listAzureHybridConnections: async () => ({ items: [], problems: [] }),
    addFromAzure: async () => [],
    getProxy: async () => proxyState(),
    setProxy: async (input: ProxyInput) => {
      proxyInput = input;
      log(`proxy set: ${proxyState().description}`, 'info');
      return proxyState();
    },
    clearProxy: async () => {
      proxyInput = null;
      log('proxy setting removed', 'info');
      return proxyState();
    },
    getLogLevel: async () => logLevel,
    setLogLevel: async (level: LogLevel) => {
      logLevel = level;
      log(`log level set to ${level}`, level === 'debug' ? 'debug' : 'warn');
    },
    openLogFolder: async () => undefined,
    testConnection: async (id: string): Promise<TestResult> => {
      const c = find(id);
      const ok = c.status === 'Connected';
      return {
        target: id,
        ok,
        steps: [
          { name: 'Endpoint DNS', ok: true, detail: `${c.endpoint.split(':')[0]} resolves to 10.0.0.5`, ms: 2 },
          { name: 'Endpoint TCP', ok, detail: ok ? 'port answers' : 'connection refused', ms: 3 },
        ],
      };
    },
    getLogs: async (options: { afterSeq?: number } = {}) => logs.filter((e) => e.seq > (options?.afterSeq ?? 0)),
    getUpdateState: async () => ({ state: 'unsupported', currentVersion: '0.1.0', reason: 'not in this test' }),
    checkForUpdates: async () => ({ state: 'unsupported', currentVersion: '0.1.0', reason: 'not in this test' }),
    installUpdate: async () => undefined,
    startDemo: async () => {
      throw new Error('not in this test');
    },
    stopDemo: async () => undefined,
    sendTestTraffic: async (): Promise<TrafficResult> => {
      throw new Error('not in this test');
    },
    // No tunnel is open unless a test scripts them (and pushes `tunnels` events).
    listTunnels: async (id: string): Promise<TunnelList> => {
      find(id);
      return { connectionId: id, tunnels: [], total: 0, at: new Date().toISOString() };
    },
    closeTunnel: async (id: string) => {
      find(id);
      return false;
    },
  };
  const recorded = Object.fromEntries(
    Object.entries(api).map(([method, fn]) => [
      method,
      (...args: unknown[]) => {
        calls.push({ method, args });
        const run = (scripted[method as keyof HcmApi] ?? fn) as (...a: unknown[]) => Promise<unknown>;
        return run(...args);
      },
    ]),
  );
  const hcm = { ...recorded, on: events.on.bind(events) } as unknown as HcmHost;

  let server: UiServer = await startUiServer({ hcm, staticDir: join(ROOT, 'dist', 'renderer') });
  const { port, token } = server;
  return {
    url: server.url,
    port,
    token,
    hcm,
    calls,
    connections: () => list,
    setConnections(next) {
      list = next.map((c) => ({ ...c }));
      emit();
    },
    update(id, change) {
      list = list.map((c) => (c.id === id ? { ...c, ...change } : c));
      emit();
    },
    log,
    script(method, fn) {
      scripted[method] = fn;
    },
    logLevel: () => logLevel,
    emit: (event, payload) => events.emit(event, payload),
    proxy: () => ({ input: proxyInput }),
    stop: () => server.close(),
    async start() {
      server = await startUiServer({ hcm, staticDir: join(ROOT, 'dist', 'renderer'), port, token });
    },
  };
}
