import { Badge, FluentProvider, Tab, TabList, Text, Title3, Toaster, makeStyles, tokens } from '@fluentui/react-components';
import {
  Beaker16Regular,
  DocumentText20Regular,
  Info20Regular,
  PlugConnected20Regular,
  PlugDisconnected16Filled,
  Server20Regular,
} from '@fluentui/react-icons';
import { type ReactElement, useEffect, useMemo, useRef, useState } from 'react';
import { STATUS_LABELS } from '../../shared/api.js';
import { overallStatus } from '../../shared/overall-status.js';
import { formatClock } from '../format.js';
import { statusLine, windowTitle } from '../state/connection-list.js';
import type { View } from '../state/store.js';
import { useHcm } from '../state/use-hcm.js';
import { useOsTheme } from '../theme.js';
import { namesList } from '../azure.js';
import { detailsLinkSelector, focusSoon } from '../focus.js';
import { AboutView } from './AboutView.js';
import { AddConnectionDialog } from './AddConnectionDialog.js';
import { AzureAccount } from './AzureAccount.js';
import { Banner } from './Banner.js';
import { ConnectionDetailsDrawer } from './ConnectionDetailsDrawer.js';
import { ConnectionsView } from './ConnectionsView.js';
import { LogsView } from './LogsView.js';
import { OverallStatusBadge } from './OverallStatusBadge.js';
import { UpdateBanners } from './UpdateBanner.js';
import { VisuallyHidden } from './VisuallyHidden.js';
import { TOASTER_ID, useNotify } from './notify.js';

const useStyles = makeStyles({
  // Viewport units, not percentages: Fluent copies the provider's classes onto its portal nodes.
  shell: { display: 'flex', flexDirection: 'column', height: '100vh' },
  header: {
    display: 'flex',
    flexWrap: 'wrap',
    alignItems: 'center',
    gap: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalL}`,
    padding: `${tokens.spacingVerticalM} ${tokens.spacingHorizontalXL}`,
    backgroundColor: tokens.colorNeutralBackground3,
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
  },
  brand: {
    display: 'flex',
    flexWrap: 'wrap',
    alignItems: 'center',
    columnGap: tokens.spacingHorizontalM,
    rowGap: tokens.spacingVerticalXXS,
    marginRight: 'auto',
    minWidth: 0,
    '& h1': { margin: 0 },
  },
  title: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalS },
  logo: { width: '28px', height: '28px', flexShrink: 0 },
  machine: {
    display: 'inline-flex',
    alignItems: 'center',
    gap: tokens.spacingHorizontalXS,
    fontWeight: tokens.fontWeightSemibold,
    color: tokens.colorNeutralForeground2,
    overflowWrap: 'anywhere',
    minWidth: 0,
  },
  machineIcon: { flexShrink: 0 },
  badges: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: tokens.spacingHorizontalS },
  hostInfo: { color: tokens.colorNeutralForeground3 },
  nav: { paddingInline: tokens.spacingHorizontalL, borderBottom: `1px solid ${tokens.colorNeutralStroke2}` },
  banner: { margin: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalXL} 0` },
  main: {
    flexGrow: 1,
    minHeight: 0,
    display: 'flex',
    flexDirection: 'column',
    padding: `${tokens.spacingVerticalL} ${tokens.spacingHorizontalXL}`,
    overflow: 'auto',
  },
});

const TABS: Array<{ value: View; label: string; icon: ReactElement }> = [
  { value: 'connections', label: 'Connections', icon: <PlugConnected20Regular /> },
  { value: 'logs', label: 'Logs', icon: <DocumentText20Regular /> },
  { value: 'about', label: 'About', icon: <Info20Regular /> },
];

export function App() {
  const { theme } = useOsTheme();
  return (
    <FluentProvider theme={theme}>
      <Shell />
      <Toaster toasterId={TOASTER_ID} position="bottom-end" />
    </FluentProvider>
  );
}

function Shell() {
  const styles = useStyles();
  const view = useHcm((s) => s.view);
  const setView = useHcm((s) => s.setView);
  const connections = useHcm((s) => s.connections);
  const appInfo = useHcm((s) => s.appInfo);
  const lostAt = useHcm((s) => s.lostAt);
  const [adding, setAdding] = useState(false);
  const notify = useNotify();
  const mainRef = useRef<HTMLElement>(null);
  const lostSince = lostAt ? formatClock(lostAt) : null;
  const line = useMemo(() => statusLine(connections, lostSince), [connections, lostSince]);
  // Older hosts do not send the host name; then the title simply goes without it.
  const hostname = typeof appInfo?.hostname === 'string' && appInfo.hostname !== '' ? appInfo.hostname : null;

  useEffect(() => {
    document.title = windowTitle(hostname, line);
  }, [hostname, line]);

  return (
    <div className={styles.shell}>
      <header className={styles.header}>
        <div className={styles.brand}>
          <div className={styles.title}>
            <img className={styles.logo} src="./favicon.svg" alt="" />
            <Title3 as="h1">Hybrid Connection Manager</Title3>
          </div>
          {hostname && (
            <span className={styles.machine} title="The machine this agent runs on" data-testid="hostname">
              <Server20Regular className={styles.machineIcon} aria-hidden />
              {hostname}
            </span>
          )}
        </div>
        <HeaderStatus lostSince={lostSince} />
        <AzureAccount />
        {appInfo && (
          <Text size={200} className={styles.hostInfo}>
            {appInfo.host === 'electron' ? 'Desktop' : appInfo.host === 'browser' ? 'Browser' : 'Agent'} · v{appInfo.version}
          </Text>
        )}
      </header>
      <nav className={styles.nav} aria-label="Sections">
        <TabList selectedValue={view} onTabSelect={(_, data) => setView(data.value as View)}>
          {TABS.map((t) => (
            <Tab key={t.value} value={t.value} icon={t.icon}>
              {t.label}
            </Tab>
          ))}
        </TabList>
      </nav>
      <LinkBanner />
      <UpdateBanners className={styles.banner} />
      <main ref={mainRef} className={styles.main} aria-label={TABS.find((t) => t.value === view)!.label}>
        {view === 'connections' && <ConnectionsView onAdd={() => setAdding(true)} />}
        {view === 'logs' && <LogsView />}
        {view === 'about' && <AboutView />}
      </main>
      <AddConnectionDialog
        open={adding}
        onClose={() => setAdding(false)}
        onAdded={(details) => {
          setAdding(false);
          notify('success', `Added ${details.name}`, `Relaying to ${details.endpoint}.`);
          focusSoon(detailsLinkSelector(details.id));
        }}
        onAddedFromAzure={(ids, names) => {
          setAdding(false);
          notify('success', `Added ${namesList(names)}`, 'Their keys were fetched from Azure; they connect to the relay now.');
          if (ids[0]) focusSoon(detailsLinkSelector(ids[0]));
        }}
      />
      <ConnectionDetailsDrawer />
      <Announcer />
    </div>
  );
}

/** All connections in a word or two; the demo apart from the real ones; nothing green when the host is gone. */
function HeaderStatus({ lostSince }: { lostSince: string | null }) {
  const styles = useStyles();
  const connections = useHcm((s) => s.connections);
  const real = useMemo(() => connections.filter((c) => !c.demo), [connections]);
  const demo = connections.find((c) => c.demo);
  if (lostSince) {
    return (
      <Badge appearance="tint" size="large" color="danger" icon={<PlugDisconnected16Filled />} data-overall="unreachable">
        Agent not reachable since {lostSince}
      </Badge>
    );
  }
  return (
    <div className={styles.badges}>
      {(real.length > 0 || !demo) && <OverallStatusBadge overall={overallStatus(real)} />}
      {demo && (
        <Badge appearance="outline" size="large" color="brand" icon={<Beaker16Regular />} data-testid="header-demo">
          Demo: {STATUS_LABELS[demo.status]}
        </Badge>
      )}
    </div>
  );
}

/** Shown while the browser host cannot be reached; the WebSocket keeps retrying underneath. */
function LinkBanner() {
  const styles = useStyles();
  const lostAt = useHcm((s) => s.lostAt);
  if (!lostAt) return null;
  return (
    <Banner intent="warning" className={styles.banner} testId="link-lost" title={`Agent not reachable since ${formatClock(lostAt)}`}>
      Every status is unknown and actions are off until it is back. Retrying; if "hcm ui" was restarted, open the new address it printed.
    </Banner>
  );
}

/** Status changes read out by screen readers without moving focus. */
function Announcer() {
  const announcement = useHcm((s) => s.announcement);
  return (
    <div role="status" aria-live="polite" aria-atomic="true">
      <VisuallyHidden>{announcement}</VisuallyHidden>
    </div>
  );
}
