/**
 * Everything the screens show, kept current by the host's events. One store per host
 * connection; components read slices of it through useHcm().
 */
import { createStore } from 'zustand/vanilla';
import type {
  AppInfo,
  AzureListingProgress,
  AzureSignInStarted,
  AzureState,
  ConnectionSummary,
  HcmHost,
  LogEntry,
  LogLevel,
  TestResult,
  TrafficResult,
  UpdateState,
} from '../../shared/api.js';
import type { HostConnection } from '../host/connect-to-host.js';
import type { LinkState } from '../host/websocket-host.js';
import { DEFAULT_SORT, type SortState } from './connection-list.js';
import { type LogFilter, mergeLogs } from './log-buffer.js';
import { describeStatusChanges } from './status-changes.js';

export type View = 'connections' | 'logs' | 'about';

/** The two ways of Add: pick in Azure, or paste a connection string. */
export type AddWay = 'azure' | 'string';

/** A result with the time it was had: kept per connection, so reopening the details shows it again. */
export interface Stamped<T> {
  at: string;
  result: T;
}

export const DEFAULT_LOG_FILTER: LogFilter = { minLevel: 'info', connections: [], text: '' };

export interface HcmState {
  hcm: HcmHost;
  link: LinkState;
  /** When the link to the host was lost (ISO), while it is; every status shown is then unknown. */
  lostAt: string | null;
  appInfo: AppInfo | null;
  connections: ConnectionSummary[];
  connectionsLoaded: boolean;
  loadError: string | null;
  logs: LogEntry[];
  /** What the agent records (its log level, changeable while it runs); null until read, or where the host cannot tell. */
  logLevel: LogLevel | null;
  update: UpdateState | null;
  /** The host's Azure sign-in (account, cloud, a sign-in waiting); null until read, or where the host has none. */
  azure: AzureState | null;
  /** What beginAzureSignIn gave this window (the page to open, a device code), while that sign-in waits. */
  azureSignIn: AzureSignInStarted | null;
  /** How far the current listing of Hybrid Connections in Azure is. */
  azureProgress: AzureListingProgress | null;
  /** The way of Add chosen last in this window (null: not chosen yet). */
  addWay: AddWay | null;
  view: View;
  /** Connection whose details are open. */
  selectedId: string | null;
  /** Rows ticked in the connections list, for the toolbar's actions. */
  checked: string[];
  sort: SortState;
  /** Text in the connections filter box. */
  listFilter: string;
  logFilter: LogFilter;
  tests: Record<string, Stamped<TestResult>>;
  traffic: Record<string, Stamped<TrafficResult>>;
  /** Latest sentence for the polite live region. */
  announcement: string;
  setView(view: View): void;
  select(id: string | null): void;
  setUpdate(update: UpdateState): void;
  setAzure(azure: AzureState): void;
  setAzureSignIn(started: AzureSignInStarted | null): void;
  setAzureProgress(progress: AzureListingProgress | null): void;
  setAddWay(way: AddWay): void;
  setLogLevel(level: LogLevel): void;
  setChecked(ids: string[]): void;
  setSort(sort: SortState): void;
  setListFilter(text: string): void;
  setLogFilter(change: Partial<LogFilter>): void;
  /** The Logs tab, showing only the lines about these connections. */
  viewLogsOf(ids: string[]): void;
  setTest(id: string, result: TestResult): void;
  setTraffic(id: string, result: TrafficResult): void;
  announce(sentence: string): void;
}

export type HcmStore = ReturnType<typeof createHcmStore>;

const LOG_FLUSH_MS = 100;

export function createHcmStore(host: HostConnection) {
  const { hcm } = host;
  const store = createStore<HcmState>()((set) => ({
    hcm,
    link: host.linkState(),
    lostAt: host.linkState() === 'lost' ? new Date().toISOString() : null,
    appInfo: null,
    connections: [],
    connectionsLoaded: false,
    loadError: null,
    logs: [],
    logLevel: null,
    update: null,
    azure: null,
    azureSignIn: null,
    azureProgress: null,
    addWay: null,
    view: 'connections',
    selectedId: null,
    checked: [],
    sort: DEFAULT_SORT,
    listFilter: '',
    logFilter: DEFAULT_LOG_FILTER,
    tests: {},
    traffic: {},
    announcement: '',
    setView: (view) => set({ view }),
    select: (selectedId) => set({ selectedId }),
    setUpdate: (update) => set({ update }),
    setAzure: (azure) => applyAzure(azure),
    setAzureSignIn: (azureSignIn) => set({ azureSignIn }),
    setAzureProgress: (azureProgress) => set({ azureProgress }),
    setAddWay: (addWay) => set({ addWay }),
    setLogLevel: (logLevel) => set({ logLevel }),
    setChecked: (checked) => set({ checked }),
    setSort: (sort) => set({ sort }),
    setListFilter: (listFilter) => set({ listFilter }),
    setLogFilter: (change) => set((s) => ({ logFilter: { ...s.logFilter, ...change } })),
    viewLogsOf: (ids) => set((s) => ({ view: 'logs', selectedId: null, logFilter: { ...s.logFilter, connections: ids, text: '' } })),
    setTest: (id, result) => set((s) => ({ tests: { ...s.tests, [id]: { at: new Date().toISOString(), result } } })),
    setTraffic: (id, result) => set((s) => ({ traffic: { ...s.traffic, [id]: { at: new Date().toISOString(), result } } })),
    // A trailing space when the same sentence comes twice, so screen readers read it again.
    announce: (sentence) => set((s) => ({ announcement: s.announcement === sentence ? `${sentence} ` : sentence })),
  }));

  const applyConnections = (list: ConnectionSummary[]) => {
    const before = store.getState();
    const lines = before.connectionsLoaded ? describeStatusChanges(before.connections, list) : [];
    // Ticks and kept results of connections that are gone go with them.
    const ids = new Set(list.map((c) => c.id));
    const keep = <T>(record: Record<string, T>) => Object.fromEntries(Object.entries(record).filter(([id]) => ids.has(id)));
    store.setState({
      connections: list,
      connectionsLoaded: true,
      loadError: null,
      checked: before.checked.filter((id) => ids.has(id)),
      tests: keep(before.tests),
      traffic: keep(before.traffic),
      ...(lines.length ? { announcement: lines.join(' ') } : {}),
    });
  };

  /** A new Azure state: a sign-in that ended forgets its page or code, and who signed in or out is announced. */
  const applyAzure = (azure: AzureState) => {
    const before = store.getState().azure;
    const change: Partial<HcmState> = { azure };
    if (!azure.signingIn) change.azureSignIn = null;
    if (before && !before.account && azure.account) change.announcement = `Signed in to Azure as ${azure.account.username}.`;
    if (before?.account && !azure.account) change.announcement = 'Signed out of Azure.';
    store.setState(change);
  };

  // Log lines can arrive in bursts; render them in batches.
  let pendingLogs: LogEntry[] = [];
  let flushTimer: ReturnType<typeof setTimeout> | null = null;
  const queueLog = (entry: LogEntry) => {
    pendingLogs.push(entry);
    flushTimer ??= setTimeout(() => {
      flushTimer = null;
      const batch = pendingLogs;
      pendingLogs = [];
      store.setState((s) => ({ logs: mergeLogs(s.logs, batch) }));
    }, LOG_FLUSH_MS);
  };

  const resync = async () => {
    const afterSeq = store.getState().logs.at(-1)?.seq;
    const results = await Promise.allSettled([
      hcm.getAppInfo().then((appInfo) => store.setState({ appInfo })),
      hcm.listConnections().then(applyConnections),
      hcm.getLogs(afterSeq === undefined ? {} : { afterSeq }).then((lines) => store.setState((s) => ({ logs: mergeLogs(s.logs, lines) }))),
      hcm.getUpdateState().then((update) => store.setState({ update })),
      // Older hosts have no log level to tell; then the Logs tab simply shows no control for it.
      Promise.resolve()
        .then(() => hcm.getLogLevel())
        .then((logLevel) => store.setState({ logLevel })),
      // Hosts without Azure sign-in simply show no account and no "Select with Azure".
      Promise.resolve()
        .then(() => hcm.getAzureState())
        .then((azure) => azure && applyAzure(azure)),
    ]);
    const failed = results[1];
    if (failed?.status === 'rejected') store.setState({ loadError: (failed.reason as Error).message });
  };

  hcm.on('connections', applyConnections);
  hcm.on('log', queueLog);
  hcm.on('update', (update) => store.setState({ update }));
  hcm.on('azure', applyAzure);
  hcm.on('azureProgress', (azureProgress) => store.setState({ azureProgress }));
  host.onLinkChange((link) => {
    const before = store.getState();
    const wasLost = before.link === 'lost';
    if (link === 'lost' && !wasLost) {
      store.setState({
        link,
        lostAt: new Date().toISOString(),
        announcement: 'Agent not reachable. Every status is unknown until it is back; actions are off.',
      });
    } else if (link === 'open' && wasLost) {
      store.setState({ link, lostAt: null, announcement: 'Agent reachable again.' });
      void resync();
    } else {
      store.setState({ link });
    }
  });
  void resync();
  return store;
}
