/**
 * Everything the screens show, kept current by the host's events. One store per host
 * connection; components read slices of it through useHcm().
 */
import { createStore } from 'zustand/vanilla';
import type { AppInfo, ConnectionSummary, HcmBridge, LogEntry, UpdateState } from '../../shared/api.js';
import type { HostConnection } from '../bridge/connect-to-host.js';
import type { LinkState } from '../bridge/websocket-bridge.js';
import { mergeLogs } from './log-buffer.js';
import { describeStatusChanges } from './status-changes.js';

export type View = 'connections' | 'logs' | 'about';

export interface HcmState {
  bridge: HcmBridge;
  link: LinkState;
  appInfo: AppInfo | null;
  connections: ConnectionSummary[];
  connectionsLoaded: boolean;
  loadError: string | null;
  logs: LogEntry[];
  update: UpdateState | null;
  view: View;
  /** Connection whose details are open. */
  selectedId: string | null;
  /** Latest sentence for the polite live region. */
  announcement: string;
  setView(view: View): void;
  select(id: string | null): void;
  setUpdate(update: UpdateState): void;
}

export type HcmStore = ReturnType<typeof createHcmStore>;

const LOG_FLUSH_MS = 100;

export function createHcmStore(host: HostConnection) {
  const { bridge } = host;
  const store = createStore<HcmState>()((set) => ({
    bridge,
    link: host.linkState(),
    appInfo: null,
    connections: [],
    connectionsLoaded: false,
    loadError: null,
    logs: [],
    update: null,
    view: 'connections',
    selectedId: null,
    announcement: '',
    setView: (view) => set({ view }),
    select: (selectedId) => set({ selectedId }),
    setUpdate: (update) => set({ update }),
  }));

  const applyConnections = (list: ConnectionSummary[]) => {
    const before = store.getState();
    const lines = before.connectionsLoaded ? describeStatusChanges(before.connections, list) : [];
    store.setState({
      connections: list,
      connectionsLoaded: true,
      loadError: null,
      ...(lines.length ? { announcement: lines.join(' ') } : {}),
    });
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
      bridge.getAppInfo().then((appInfo) => store.setState({ appInfo })),
      bridge.listConnections().then(applyConnections),
      bridge
        .getLogs(afterSeq === undefined ? {} : { afterSeq })
        .then((lines) => store.setState((s) => ({ logs: mergeLogs(s.logs, lines) }))),
      bridge.getUpdateState().then((update) => store.setState({ update })),
    ]);
    const failed = results[1];
    if (failed?.status === 'rejected') store.setState({ loadError: (failed.reason as Error).message });
  };

  bridge.on('connections', applyConnections);
  bridge.on('log', queueLog);
  bridge.on('update', (update) => store.setState({ update }));
  host.onLinkChange((link) => {
    const wasLost = store.getState().link === 'lost';
    store.setState({ link });
    if (link === 'open' && wasLost) void resync();
  });
  void resync();
  return store;
}
