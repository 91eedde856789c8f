/**
 * The HCM API contract: everything the UI (and the CLI's live commands) can ask of a host and
 * hear from it. One file, no runtime dependencies, shared by the Electron preload, the browser
 * host's WebSocket, the local control socket and the renderer.
 *
 * Transports map a method `m` to the channel `hcm:m` and an event `e` to `hcm:event:e`.
 * Every value crossing a transport is plain JSON (dates as ISO strings).
 */

import type { HcmErrorCode } from './errors.js';

export type { HcmErrorCode } from './errors.js';

/** Truthful per-connection state (docs/protocol.md §4.8: never show Connected for a dead channel). */
export type ConnectionStatus = 'Connected' | 'Connecting' | 'NotConnected' | 'NotFound' | 'Unauthorized';

export const STATUS_LABELS: Record<ConnectionStatus, string> = {
  Connected: 'Connected',
  Connecting: 'Connecting',
  NotConnected: 'Not connected',
  NotFound: 'Not found',
  Unauthorized: 'Unauthorized',
};

export interface ConnectionCounters {
  /** Tunneled TCP connections open right now. */
  activeConnections: number;
  /** Connections the relay handed this agent since it started, the failed ones included. */
  totalConnections: number;
  /** Of those, the ones that could not be bridged (endpoint unreachable, rendezvous failed). */
  failedConnections: number;
  /** Bytes from the relay (the app) to the endpoint. */
  bytesToEndpoint: number;
  /** Bytes from the endpoint back to the relay (the app). */
  bytesFromEndpoint: number;
  lastConnectionAt: string | null;
}

/** The counters of a connection that has carried nothing yet (a fresh object each time). */
export function noTraffic(): ConnectionCounters {
  return {
    activeConnections: 0,
    totalConnections: 0,
    failedConnections: 0,
    bytesToEndpoint: 0,
    bytesFromEndpoint: 0,
    lastConnectionAt: null,
  };
}

export interface ErrorInfo {
  message: string;
  at: string;
}

export interface ConnectionSummary {
  /** Unique key: `<namespace>/<hybrid connection name>`. */
  id: string;
  /** Hybrid Connection name (EntityPath). */
  name: string;
  /** Namespace short name (first label of the host). */
  namespace: string;
  /** Endpoint the agent opens for each connection, `host:port`. */
  endpoint: string;
  status: ConnectionStatus;
  statusSince: string;
  lastError: ErrorInfo | null;
  /** While the control channel is down: when the agent tries again (null while connected or trying now). */
  retryAt: string | null;
  /**
   * The endpoint is pinned when the connection is added. When the Hybrid Connection's metadata later
   * names another one, the agent keeps the pinned one and says so here until the admin accepts it.
   */
  endpointChange: { from: string; to: string; seenAt: string } | null;
  counters: ConnectionCounters;
  /** The built-in demo ("Try it with a local relay"): a local relay, never saved with real connections. */
  demo?: boolean;
}

export interface ConnectionDetails extends ConnectionSummary {
  /** `sb://<namespace host>/` as the portal shows it. */
  serviceBusAddress: string;
  /** Name of the SAS rule in use; the key itself never crosses the contract. */
  keyName: string | null;
  /** From the relay's runtime information, when it could be read. */
  createdAt: string | null;
  updatedAt: string | null;
  listenerCount: number | null;
  requiresClientAuthorization: boolean | null;
  /** When this agent was given the connection. */
  addedAt: string;
  /** Where the endpoint came from: the Hybrid Connection's metadata, or set by hand. */
  endpointSource: 'metadata' | 'manual';
  /** Added through "Select with Azure": where its key came from, so a rotated key can be fetched again. */
  azure: AzureOrigin | null;
  /**
   * The relay hosts the running agent connected to for this connection (the namespace host of the
   * control channel and each rendezvous gateway), names only, for firewall rules; empty or absent
   * when no agent runs here. The UI shows each with a copy button.
   */
  gatewayHosts?: string[];
  /** The same hosts with their port, what each was used for and when last (at most 256 per connection). */
  gateways?: GatewayInfo[];
  /**
   * This machine's clock minus the relay's, in seconds (positive: this machine is ahead), from the
   * HTTP Date header of the relay's latest answer; null until one was seen.
   */
  clockSkewSeconds?: number | null;
  /** Set when the clocks are more than a minute apart: "this machine's clock is N minutes off (relay time …, …)". */
  clockProblem?: string | null;
}

/** A relay host the agent connected to: the namespace host (control channel) or a rendezvous gateway. */
export interface GatewayInfo {
  host: string;
  port: number;
  role: 'control' | 'rendezvous';
  lastSeen: string;
}

export interface ProxyInput {
  /** http://host:port, or "direct". */
  url: string;
  noProxy?: string[];
  username?: string;
  password?: string;
}

export interface ProxyState {
  /** For people, e.g. "http://proxy:3128 (setting, user alice)" or "none". */
  description: string;
  source: 'setting' | 'environment' | 'system' | 'none';
  /** The saved setting, if any (no credentials). */
  url: string | null;
  noProxy: string[];
  username: string | null;
  /** What the environment (HTTPS_PROXY, NO_PROXY) alone would give. */
  environment: string;
}

// ---------------------------------------------------------------- Azure (sign-in and picking)

export const AZURE_CLOUD_NAMES = ['public', 'usgov', 'china', 'custom'] as const;
export type AzureCloudName = (typeof AZURE_CLOUD_NAMES)[number];

export interface AzureOrigin {
  cloud: AzureCloudName;
  tenantId: string;
  subscriptionId: string;
  resourceGroup: string;
  namespace: string;
  hybridConnection: string;
  /** The shared access policy whose key is used, and where it is defined. */
  rule: string;
  ruleScope: 'hybridConnection' | 'namespace';
  /** The Hybrid Connection in the Azure portal. */
  portalUrl: string;
}

export interface AzureAccount {
  username: string;
  name: string | null;
  tenantId: string;
}

export interface AzureState {
  cloud: AzureCloudName;
  /** For people: "Azure (global)", "Azure US Government", … */
  cloudLabel: string;
  /** Tenant asked for at sign-in (organizations by default). */
  tenant: string;
  account: AzureAccount | null;
  /** A sign-in is waiting for the user (in a browser tab, or for a device code). */
  signingIn: boolean;
  lastError: string | null;
  /** How the tokens are kept on this machine, said plainly. */
  tokenStorage: string;
}

export interface AzureSignInOptions {
  /** browser: the sign-in page in a browser, answered on a loopback address; device-code: a code to enter elsewhere. */
  method: 'browser' | 'device-code';
  cloud?: AzureCloudName;
  tenant?: string;
}

export interface AzureSignInStarted {
  /** browser: the page to open (the desktop app has opened it already). */
  url?: string;
  /** device-code: what to tell the user. */
  deviceCode?: { userCode: string; verificationUri: string; message: string };
}

export interface AzurePickerItem {
  /** ARM resource id of the Hybrid Connection. */
  armId: string;
  /** The id it gets here when added: `<namespace>/<name>`. */
  connectionId: string;
  tenantId: string;
  subscriptionId: string;
  subscriptionName: string;
  resourceGroup: string;
  namespace: string;
  region: string;
  name: string;
  endpoint: string | null;
  listenerCount: number | null;
  /** App Service apps that use it, where ARM could tell. */
  apps: string[];
  /** Why it cannot be picked (no endpoint configured, already added), or null. */
  disabledReason: string | null;
}

export interface AzureListing {
  items: AzurePickerItem[];
  /** Parts that could not be read, for people. */
  problems: string[];
}

export interface AzureListingProgress {
  stage: 'tenants' | 'subscriptions' | 'namespaces' | 'hybridConnections' | 'apps' | 'done';
  done: number;
  total: number;
}

export interface AzureSelection {
  tenantId: string;
  subscriptionId: string;
  resourceGroup: string;
  namespace: string;
  name: string;
}

export interface AzureAddResult {
  selection: AzureSelection;
  ok: boolean;
  /** The added connection's id, or why it was not added. */
  id?: string;
  error?: string;
}

export type ValidationResult =
  | {
      ok: true;
      id: string;
      name: string;
      namespace: string;
      serviceBusAddress: string;
      keyName: string | null;
      /** Resolved from metadata; null when the Hybrid Connection has none (then an endpoint must be given). */
      endpoint: string | null;
      endpointProblem: string | null;
      listenerCount: number | null;
      alreadyAdded: boolean;
      warnings: string[];
    }
  | {
      ok: false;
      /** Which stage failed: the text itself, asking the relay about it, or the rule's rights (it cannot listen). */
      stage: 'parse' | 'relay' | 'rights';
      error: string;
      code?: HcmErrorCode;
    };

export interface AddConnectionInput {
  connectionString: string;
  /** `host:port`, only where the Hybrid Connection's metadata has no endpoint. */
  endpoint?: string;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogEntry {
  seq: number;
  time: string;
  level: LogLevel;
  message: string;
  /** Connection id the line is about, if any. */
  connection?: string;
}

export interface TestStep {
  name: string;
  ok: boolean;
  detail: string;
  ms: number;
  /** Passed, but worth a look (e.g. the clock is more than a minute off yet tokens still work). */
  warning?: boolean;
}

export interface TestResult {
  target: string;
  ok: boolean;
  steps: TestStep[];
}

/** What "Send test traffic" did: connections through the relay to the demo's echo endpoint, every byte compared. */
export interface TrafficResult {
  target: string;
  ok: boolean;
  connections: number;
  bytesSent: number;
  bytesEchoed: number;
  ms: number;
  /** One line for people: what happened, or what went wrong. */
  detail: string;
}

/**
 * How this install gets a new version. The desktop app (`desktop`, `appimage`) downloads and
 * installs it itself ("Restart to update"); every other install is updated by the admin with
 * `command`.
 */
export interface UpdateHowTo {
  kind: 'desktop' | 'appimage' | 'npm-global' | 'deb' | 'tar.gz' | 'source' | 'unknown';
  /** The exact command that installs the new version; null when the app does it itself or no command is known. */
  command: string | null;
  /** One sentence for people: how this install is updated. */
  description: string;
}

/** What every update state carries. */
export interface UpdateStateBase {
  currentVersion: string;
  /** How this install is updated (hosts that know say it in every state). */
  howToUpdate?: UpdateHowTo;
  /** Set when this run is the first after an update: the version that ran before ("Updated to X"). */
  updatedFrom?: string;
}

/**
 * The host's update check, pushed in the `update` event. A check runs at start and about every
 * 12 hours; a failed one is retried quietly later (`error.retryAt`). `available`, `downloading`
 * and `ready` carry the new version's release notes and date; `ready` (desktop app only) means
 * `installUpdate()` restarts into it. `unsupported` says why this host does not check (checks
 * turned off, no feed configured, a development run).
 */
export type UpdateState = UpdateStateBase &
  (
    | { state: 'idle' }
    | { state: 'checking' }
    | { state: 'up-to-date'; checkedAt: string }
    | { state: 'available'; version: string; notes: string | null; releaseDate: string | null; checkedAt?: string }
    | { state: 'downloading'; version: string; notes: string | null; releaseDate: string | null; percent: number }
    | { state: 'ready'; version: string; notes: string | null; releaseDate: string | null }
    | { state: 'unsupported'; reason: string }
    | { state: 'error'; message: string; retryAt?: string }
  );

export interface AppInfo {
  version: string;
  /** The machine's host name: admins reach several servers' UIs through `ssh -L`. */
  hostname: string;
  /** Which host serves this API. */
  host: 'electron' | 'browser' | 'agent';
  platform: string;
  configDir: string;
  logDir: string;
}

/** One open tunnel of a connection: what the live connection inspector shows per row. */
export interface TunnelInfo {
  /** This agent's id for the tunnel (`<connection id>#<n>`); `closeTunnel` takes it. */
  id: string;
  connectionId: string;
  /** The sender's address as the relay saw it (the accept's remoteEndpoint), `address:port`; null when the relay did not say. */
  sender: string | null;
  openedAt: string;
  /** Bytes from the app to the endpoint / back, so far. */
  bytesToEndpoint: number;
  bytesFromEndpoint: number;
  /** The endpoint as configured when the tunnel opened, `host:port`. */
  endpoint: string;
  /** The address the TCP connection actually went to (after DNS), `address:port`. */
  endpointAddress: string | null;
}

/** A connection's open tunnels, oldest first; at most `limit` of them, `total` says how many are open. */
export interface TunnelList {
  connectionId: string;
  tunnels: TunnelInfo[];
  total: number;
  /** When the list was taken (ages are relative to it). */
  at: string;
}

/** What the running agent answers to `handOver` before it stops listening and drains. */
export interface HandOverResult {
  pid: number;
  /** Tunnels open when it stopped listening; they get `graceMs` to finish. */
  openTunnels: number;
  graceMs: number;
}

/** Methods: each returns a promise; failures reject with an Error whose message is for people. */
export interface HcmApi {
  getAppInfo(): Promise<AppInfo>;
  listConnections(): Promise<ConnectionSummary[]>;
  getConnection(id: string): Promise<ConnectionDetails>;
  /** Parses the string and asks the relay for the endpoint, without saving anything. */
  validateConnectionString(connectionString: string): Promise<ValidationResult>;
  addConnection(input: AddConnectionInput): Promise<ConnectionDetails>;
  removeConnection(id: string): Promise<void>;
  /** Key rotation by hand: the same Hybrid Connection's new connection string, with the checks of Add. */
  replaceConnectionString(id: string, connectionString: string): Promise<ConnectionDetails>;
  /** A new `host:port` for a connection whose endpoint was set by hand (metadata endpoints change in Azure). */
  setEndpoint(id: string, endpoint: string): Promise<ConnectionDetails>;
  /** Switches to the endpoint the Hybrid Connection's metadata now names (see `endpointChange`). */
  acceptEndpointChange(id: string): Promise<ConnectionDetails>;
  restartConnection(id: string): Promise<void>;
  /** DNS and TCP reachability of the endpoint, and of the relay on its port. */
  testConnection(id: string): Promise<TestResult>;
  /** Recent log lines, oldest first; `afterSeq` returns only newer ones. */
  getLogs(options?: { afterSeq?: number; limit?: number }): Promise<LogEntry[]>;
  /** The agent's log level, and changing it while it runs. */
  getLogLevel(): Promise<LogLevel>;
  setLogLevel(level: LogLevel): Promise<void>;
  /** The outbound proxy in use (a setting, the environment, or none), without its password. */
  getProxy(): Promise<ProxyState>;
  /** Sets the proxy (or "direct" to ignore HTTPS_PROXY); running connections reconnect through it. */
  setProxy(input: ProxyInput): Promise<ProxyState>;
  /** Removes the setting: the environment's proxy (HTTPS_PROXY), if any, applies again. */
  clearProxy(): Promise<ProxyState>;
  /** Opens the log folder in the system's file manager (desktop app only). */
  openLogFolder(): Promise<void>;
  getAzureState(): Promise<AzureState>;
  /** Starts signing in; resolves once there is something to show (a page, a device code). The `azure` event tells the end. */
  beginAzureSignIn(options: AzureSignInOptions): Promise<AzureSignInStarted>;
  /** Signs out and removes the tokens from disk. */
  signOutOfAzure(): Promise<void>;
  /** What the signed-in account can see (progress in `azureProgress` events). */
  listAzureHybridConnections(): Promise<AzureListing>;
  /** Fetches each selection's Listen key from Azure and adds it; one result per selection. */
  addFromAzure(selections: AzureSelection[]): Promise<AzureAddResult[]>;
  getUpdateState(): Promise<UpdateState>;
  checkForUpdates(): Promise<UpdateState>;
  /** Quits and installs a downloaded update (desktop only). */
  installUpdate(): Promise<void>;
  /** Starts the demo: a local relay with one Hybrid Connection to a built-in echo service (idempotent). */
  startDemo(): Promise<ConnectionDetails>;
  /** Removes the demo connection and stops its local relay (nothing to do when none runs). */
  stopDemo(): Promise<void>;
  /** Makes real connections through the demo's relay to its echo endpoint (demo connections only). */
  sendTestTraffic(id: string): Promise<TrafficResult>;
  /** The live connection inspector: a connection's open tunnels (at most `limit`, default 500, oldest first). */
  listTunnels(id: string, options?: { limit?: number }): Promise<TunnelList>;
  /** Cuts one open tunnel at once; false when it had already ended. */
  closeTunnel(id: string, tunnelId: string): Promise<boolean>;
  /**
   * Restart without dropping a connection (`hcm run --takeover`): a new agent that already listens on
   * every Hybrid Connection asks this one to give up its control socket, stop listening and let its
   * open tunnels finish within `graceMs`; then this agent exits. Agents only (not the desktop app's own window).
   */
  handOver(options: { graceMs: number }): Promise<HandOverResult>;
}

/** Events pushed by the host. */
export interface HcmEvents {
  /** The whole list after any add, remove, status or counter change (throttled for counters). */
  connections: ConnectionSummary[];
  log: LogEntry;
  update: UpdateState;
  azure: AzureState;
  azureProgress: AzureListingProgress;
  /**
   * A connection's open tunnels changed (opened, closed, bytes moved): at most one per connection
   * a second, up to 200 tunnels (`total` says how many are open; `listTunnels` gives more).
   */
  tunnels: TunnelList;
}

export type HcmMethod = keyof HcmApi;
export type HcmEvent = keyof HcmEvents;

export const HCM_METHODS: readonly HcmMethod[] = [
  'getAppInfo',
  'listConnections',
  'getConnection',
  'validateConnectionString',
  'addConnection',
  'removeConnection',
  'replaceConnectionString',
  'setEndpoint',
  'acceptEndpointChange',
  'restartConnection',
  'testConnection',
  'getLogs',
  'getLogLevel',
  'setLogLevel',
  'openLogFolder',
  'getProxy',
  'setProxy',
  'clearProxy',
  'getAzureState',
  'beginAzureSignIn',
  'signOutOfAzure',
  'listAzureHybridConnections',
  'addFromAzure',
  'getUpdateState',
  'checkForUpdates',
  'installUpdate',
  'startDemo',
  'stopDemo',
  'sendTestTraffic',
  'listTunnels',
  'closeTunnel',
  'handOver',
];

export const HCM_EVENTS: readonly HcmEvent[] = ['connections', 'log', 'update', 'azure', 'azureProgress', 'tunnels'];

export const methodChannel = (method: HcmMethod): string => `hcm:${method}`;
export const eventChannel = (event: HcmEvent): string => `hcm:event:${event}`;

/** What the renderer sees as `window.hcm`. */
export interface HcmHost extends HcmApi {
  on<E extends HcmEvent>(event: E, listener: (payload: HcmEvents[E]) => void): () => void;
}

/**
 * Messages of the browser host's WebSocket and the CLI's control socket (one JSON object per
 * message/line). Requests are answered by the one dispatcher (dispatch.ts); a request too broken
 * to carry an id is answered with id -1.
 */
export type WireRequest = { id: number; method: HcmMethod; args: unknown[] } | WireSubscribe;
/** Control socket only: start receiving these events on this connection; the result echoes them. */
export type WireSubscribe = { id: number; method: 'subscribe'; args: HcmEvent[] };
export type WireResponse = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string; code: HcmErrorCode };
export type WireEvent = { event: HcmEvent; payload: unknown };
