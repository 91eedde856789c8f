import {
  FluentProvider,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Tab,
  TabList,
  Text,
  Title3,
  Toaster,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { DocumentText20Regular, Info20Regular, PlugConnected20Regular } from '@fluentui/react-icons';
import { type ReactElement, useEffect, useMemo, useRef, useState } from 'react';
import { overallStatus } from '../../shared/overall-status.js';
import type { View } from '../state/store.js';
import { useHcm } from '../state/use-hcm.js';
import { useOsTheme } from '../theme.js';
import { detailsLinkSelector, focusSoon } from '../focus.js';
import { AboutView } from './AboutView.js';
import { AddConnectionDialog } from './AddConnectionDialog.js';
import { ConnectionDetailsDrawer } from './ConnectionDetailsDrawer.js';
import { ConnectionsView } from './ConnectionsView.js';
import { LogsView } from './LogsView.js';
import { OverallStatusBadge } from './OverallStatusBadge.js';
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
  brand: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalS, marginRight: 'auto', '& h1': { margin: 0 } },
  logo: { width: '28px', height: '28px', flexShrink: 0 },
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
  const [adding, setAdding] = useState(false);
  const notify = useNotify();
  const overall = useMemo(() => overallStatus(connections), [connections]);
  const mainRef = useRef<HTMLElement>(null);

  useEffect(() => {
    document.title = overall.state === 'empty' ? 'Hybrid Connection Manager' : `${overall.label} — Hybrid Connection Manager`;
  }, [overall]);

  return (
    <div className={styles.shell}>
      <header className={styles.header}>
        <div className={styles.brand}>
          <img className={styles.logo} src="./favicon.svg" alt="" />
          <Title3 as="h1">Hybrid Connection Manager</Title3>
        </div>
        <OverallStatusBadge overall={overall} />
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
      />
      <ConnectionDetailsDrawer />
      <Announcer />
    </div>
  );
}

/** Shown while the browser host cannot be reached; the bridge keeps retrying underneath. */
function LinkBanner() {
  const styles = useStyles();
  const link = useHcm((s) => s.link);
  if (link !== 'lost') return null;
  return (
    <MessageBar intent="warning" className={styles.banner} data-testid="link-lost">
      <MessageBarBody>
        <MessageBarTitle>Lost contact with the HCM host</MessageBarTitle>
        Retrying. If "hcm ui" was restarted, open the new address it printed.
      </MessageBarBody>
    </MessageBar>
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
