import {
  Button,
  Caption1,
  DrawerBody,
  DrawerHeader,
  DrawerHeaderTitle,
  Link,
  OverlayDrawer,
  Spinner,
  Subtitle2,
  makeStyles,
  tokens,
  useRestoreFocusTarget,
} from '@fluentui/react-components';
import {
  ArrowClockwise20Regular,
  ArrowSwap20Regular,
  Checkmark20Regular,
  CheckmarkCircle16Filled,
  Delete20Regular,
  Dismiss24Regular,
  DismissCircle16Filled,
  DocumentSearch20Regular,
  Edit20Regular,
  KeyReset20Regular,
  Open16Regular,
  Send20Regular,
  Stethoscope20Regular,
} from '@fluentui/react-icons';
import { type ReactNode, useEffect, useState } from 'react';
import { type AzureOrigin, type ConnectionDetails, type ConnectionSummary, STATUS_LABELS, type TrafficResult } from '../../shared/api.js';
import { endpointChangeText } from '../azure.js';
import { formatAgo, formatBytes, formatClock, formatCount, formatDateTime, formatTime } from '../format.js';
import { recentFailures } from '../health.js';
import { ROLE_LABELS, clockText, gatewayRows } from '../gateways.js';
import { forPeople } from '../messages.js';
import { testOutcomeText } from '../test-outcome.js';
import { ADD_BUTTON_SELECTOR, focusSoon, refocusWithin } from '../focus.js';
import { openTunnelsSentence } from '../state/connection-list.js';
import { useHcm } from '../state/use-hcm.js';
import { useNarrow } from '../theme.js';
import { Banner } from './Banner.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { CopyButton } from './CopyButton.js';
import { DemoBadge } from './DemoBadge.js';
import { EditEndpointDialog, ReplaceConnectionStringDialog } from './EditConnectionDialogs.js';
import { FactList } from './FactList.js';
import { FailureMark, RetryLine } from './Health.js';
import { OpenConnections } from './OpenConnections.js';
import { RemoveConnectionDialog } from './RemoveConnectionDialog.js';
import { StatusBadge, UNKNOWN_STATUS_LABEL } from './StatusBadge.js';
import { TestResultView } from './TestResultView.js';
import { useConnectionActions } from './connection-actions.js';
import { useNotify, useNotifyError } from './notify.js';

const useStyles = makeStyles({
  // Rows as tall as their content: the body has a fixed height and scrolls, and a grid sized that
  // way would otherwise squeeze rows to their items' min-height.
  body: {
    display: 'grid',
    gridAutoRows: 'max-content',
    gap: tokens.spacingVerticalXL,
    alignContent: 'start',
    paddingBottom: tokens.spacingVerticalXXL,
    minWidth: 0,
  },
  title: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: tokens.spacingHorizontalS, overflowWrap: 'anywhere' },
  actions: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS },
  section: { display: 'grid', gap: tokens.spacingVerticalM, minWidth: 0 },
  statusLine: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: tokens.spacingHorizontalS },
  mono: { fontFamily: tokens.fontFamilyMonospace },
  copyable: { display: 'inline-flex', flexWrap: 'wrap', alignItems: 'center', columnGap: tokens.spacingHorizontalXS, maxWidth: '100%' },
  hosts: { listStyle: 'none', margin: 0, padding: 0, display: 'grid', gap: tokens.spacingVerticalXXS },
  gateway: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', columnGap: tokens.spacingHorizontalS },
  gatewaySeen: { color: tokens.colorNeutralForeground3, fontSize: tokens.fontSizeBase200 },
  trafficLine: {
    display: 'grid',
    gridTemplateColumns: 'auto minmax(0, 1fr)',
    columnGap: tokens.spacingHorizontalS,
    alignItems: 'start',
    overflowWrap: 'anywhere',
  },
  bannerAction: { marginTop: tokens.spacingVerticalS },
  portal: { display: 'inline-flex', alignItems: 'center', gap: tokens.spacingHorizontalXXS },
  azureWhere: { color: tokens.colorNeutralForeground3 },
  ok: { color: tokens.colorPaletteGreenForeground1, marginTop: '3px' },
  bad: { color: tokens.colorPaletteRedForeground1, marginTop: '3px' },
});

const DETAILS_SELECTOR = '[data-testid="details"]';

/** When a gateway was last used: the time of day when it is today, else the date and time. */
function formatSeen(iso: string): string {
  const at = new Date(iso);
  return at.toDateString() === new Date().toDateString() ? `at ${formatTime(iso)}` : `on ${formatDateTime(iso)}`;
}

/** The portal address of a connection added through Azure, when it is a plain https link (anything else is not offered). */
function portalUrlOf(azure: AzureOrigin | null | undefined): string | null {
  const url = azure?.portalUrl;
  if (typeof url !== 'string') return null;
  try {
    return new URL(url).protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/** Everything known about one connection, live, with restart / test / remove (and test traffic for the demo). */
export function ConnectionDetailsDrawer() {
  const selectedId = useHcm((s) => s.selectedId);
  const select = useHcm((s) => s.select);
  const summary = useHcm((s) => s.connections.find((c) => c.id === s.selectedId) ?? null);
  const narrow = useNarrow(720);
  const open = selectedId !== null && summary !== null;
  return (
    <OverlayDrawer
      open={open}
      position="end"
      size={narrow ? 'full' : 'medium'}
      onOpenChange={(_, data) => !data.open && select(null)}
      aria-labelledby="details-title"
      data-testid="details"
    >
      {open && <DetailsContent key={summary.id} summary={summary} onClose={() => select(null)} />}
    </OverlayDrawer>
  );
}

function DetailsContent({ summary: live, onClose }: { summary: ConnectionSummary; onClose: () => void }) {
  const styles = useStyles();
  const hcm = useHcm((s) => s.hcm);
  const lostAt = useHcm((s) => s.lostAt);
  const signedIn = useHcm((s) => !!s.azure?.account);
  const test = useHcm((s) => s.tests[live.id] ?? null);
  const traffic = useHcm((s) => s.traffic[live.id] ?? null);
  const setTraffic = useHcm((s) => s.setTraffic);
  const viewLogsOf = useHcm((s) => s.viewLogsOf);
  const announce = useHcm((s) => s.announce);
  const actions = useConnectionActions();
  const notify = useNotify();
  const notifyError = useNotifyError();
  const [details, setDetails] = useState<ConnectionDetails | null>(null);
  const [detailsError, setDetailsError] = useState<string | null>(null);
  const [testing, setTesting] = useState(false);
  const [sending, setSending] = useState(false);
  const [restarted, setRestarted] = useState(false);
  const [confirm, setConfirm] = useState<'remove' | 'restart' | 'accept-endpoint' | null>(null);
  const [editing, setEditing] = useState<'key' | 'endpoint' | null>(null);
  const restoreFocus = useRestoreFocusTarget();
  const lost = lostAt !== null;
  const lostSince = lostAt ? formatClock(lostAt) : '';

  // Counters and status come live with every list event; the rest is fetched again when the
  // status changes, because the relay's answer (listener count, dates) may have changed too,
  // and when the host is back after being out of reach.
  useEffect(() => {
    if (lost) return;
    let current = true;
    hcm.getConnection(live.id).then(
      (d) => current && (setDetails(d), setDetailsError(null)),
      (err: Error) => current && setDetailsError(err.message),
    );
    return () => {
      current = false;
    };
  }, [hcm, live.id, live.status, lost]);

  useEffect(() => {
    if (!restarted) return;
    const timer = setTimeout(() => setRestarted(false), 5000);
    return () => clearTimeout(timer);
  }, [restarted]);

  const restartNow = async () => {
    if (await actions.restart([live])) setRestarted(true);
  };
  const restart = () => (live.counters.activeConnections > 0 ? setConfirm('restart') : void restartNow());
  const runTest = async () => {
    setTesting(true);
    try {
      await actions.test([live]);
    } finally {
      setTesting(false);
    }
  };
  const sendTraffic = async () => {
    setSending(true);
    let result: TrafficResult;
    try {
      result = await hcm.sendTestTraffic(live.id);
    } catch (err) {
      result = { target: live.id, ok: false, connections: 0, bytesSent: 0, bytesEchoed: 0, ms: 0, detail: (err as Error).message };
    }
    setTraffic(live.id, result);
    announce(`Test traffic ${result.ok ? 'passed' : 'did not pass'}: ${result.detail}`);
    setSending(false);
  };
  const afterRemoval = () => {
    onClose();
    // Its row (the drawer's focus target) is gone; continue from Add connection.
    focusSoon(ADD_BUTTON_SELECTOR);
  };
  const remove = async () => {
    if (await actions.remove([live])) {
      setConfirm(null);
      afterRemoval();
    }
  };
  const removeDemo = async () => {
    try {
      await hcm.stopDemo();
      notify('success', 'Demo removed', 'Its local relay and echo service are stopped.');
      afterRemoval();
    } catch (err) {
      notifyError('Could not remove the demo', err);
    }
  };
  const acceptEndpoint = async () => {
    const change = live.endpointChange;
    try {
      const next = await hcm.acceptEndpointChange(live.id);
      setConfirm(null);
      setDetails(next);
      const title = `Endpoint of ${live.name} changed`;
      notify('success', title, `New connections go to ${next.endpoint || change?.to}.`);
      announce(title);
      refocusWithin(DETAILS_SELECTOR, '[data-testid="restart"]');
    } catch (err) {
      notifyError(`Could not accept the new endpoint of ${live.name}`, err);
    }
  };
  const viewLogs = () => {
    viewLogsOf([live.id]);
    focusSoon('[data-testid="log-lines"]');
  };
  const closeEditing = () => {
    const which = editing;
    setEditing(null);
    refocusWithin(DETAILS_SELECTOR, which === 'endpoint' ? '[data-testid="edit-endpoint"]' : '[data-testid="replace-key"]');
  };
  const edited = (next: ConnectionDetails, title: string, body: string) => {
    closeEditing();
    setDetails(next);
    setDetailsError(null);
    notify('success', title, body);
    announce(title);
  };

  const d = details;
  const c = live.counters;
  const gateways = gatewayRows(d);
  const clock = clockText(d?.clockSkewSeconds);
  const failures = lost ? null : recentFailures(live);
  const portalUrl = portalUrlOf(d?.azure);
  // Hand-set endpoints are edited here; metadata ones belong to the Hybrid Connection in Azure.
  const endpointEditable = !live.demo && d?.endpointSource === 'manual';
  const replaceButton = (testId: string) => (
    <Button icon={<KeyReset20Regular />} onClick={() => setEditing('key')} disabledFocusable={lost} {...restoreFocus} data-testid={testId}>
      Replace connection string…
    </Button>
  );
  const copyable = (value: string, what: string, mono = true): ReactNode => (
    <span className={styles.copyable}>
      <span className={mono ? styles.mono : undefined}>{value}</span>
      <CopyButton text={value} what={what} />
    </span>
  );
  const facts: Array<[string, ReactNode]> = [
    ['Name', live.name],
    ['Namespace', live.namespace],
    [
      'Endpoint',
      <span className={styles.copyable}>
        <span className={styles.mono}>{live.endpoint}</span>
        <CopyButton text={live.endpoint} what="endpoint" />
        {d && !live.demo && (
          <span data-testid="endpoint-source">
            {d.endpointSource === 'metadata' ? "(from the Hybrid Connection's metadata: change it in Azure)" : '(set by hand)'}
          </span>
        )}
      </span>,
    ],
    [
      'Status',
      lost ? `${UNKNOWN_STATUS_LABEL} (agent not reachable)` : `${STATUS_LABELS[live.status]}, since ${formatDateTime(live.statusSince)}`,
    ],
    ['Service Bus address', d ? copyable(d.serviceBusAddress, 'Service Bus address') : '…'],
  ];
  if (gateways) {
    facts.push([
      gateways.length === 1 ? 'Gateway host' : 'Gateway hosts',
      <ul className={styles.hosts}>
        {gateways.map((g) => (
          <li key={g.host} className={styles.gateway} data-gateway={g.host}>
            {copyable(g.host, `gateway host ${g.host}`)}
            {(g.roles.length > 0 || g.lastSeen) && (
              <span className={styles.gatewaySeen} data-testid="gateway-seen" title={g.lastSeen ? formatDateTime(g.lastSeen) : undefined}>
                {[g.roles.map((r) => ROLE_LABELS[r]).join(' and '), g.lastSeen ? `last used ${formatSeen(g.lastSeen)}` : '']
                  .filter(Boolean)
                  .join(', ')}
              </span>
            )}
          </li>
        ))}
      </ul>,
    ]);
  }
  facts.push(
    ['Key name', d ? (d.keyName ?? '— (fixed token)') : '…'],
    ['Created', d ? formatDateTime(d.createdAt) : '…'],
    ['Last updated', d ? formatDateTime(d.updatedAt) : '…'],
    [
      'Listeners online',
      // The relay's count is only worth showing while this agent is connected and the host reachable.
      lost
        ? 'unknown (agent not reachable)'
        : live.status !== 'Connected'
          ? 'unknown while not connected'
          : d
            ? d.listenerCount === null
              ? 'unknown'
              : `${d.listenerCount} (all agents on this Hybrid Connection)`
            : '…',
    ],
    [
      'Client authorization',
      d ? (d.requiresClientAuthorization === null ? 'unknown' : d.requiresClientAuthorization ? 'Required' : 'Not required') : '…',
    ],
    [live.demo ? 'Started' : 'Added to this machine', d ? formatDateTime(d.addedAt) : '…'],
    ['Last error', live.lastError ? `${live.lastError.message} — ${formatDateTime(live.lastError.at)}` : 'None'],
  );
  if (clock) facts.push(['Clock', <span data-testid="clock-skew">This machine is {clock}</span>]);
  if (d?.azure) {
    const a = d.azure;
    facts.push([
      'In Azure',
      <span className={styles.copyable}>
        <span className={styles.azureWhere}>
          {a.resourceGroup} / {a.namespace} / {a.hybridConnection} (rule {a.rule})
        </span>
        {portalUrl && (
          // The desktop app opens it in the system browser; a browser opens a new tab.
          <Link href={portalUrl} target="_blank" rel="noopener noreferrer" className={styles.portal} data-testid="portal-link">
            View in Azure portal <Open16Regular aria-hidden />
          </Link>
        )}
      </span>,
    ]);
  }

  return (
    <>
      <DrawerHeader>
        <DrawerHeaderTitle
          heading={{ id: 'details-title' }}
          action={<Button appearance="subtle" aria-label="Close details" icon={<Dismiss24Regular />} onClick={onClose} />}
        >
          <span className={styles.title}>
            {live.name}
            {live.demo && <DemoBadge size="large" />}
          </span>
        </DrawerHeaderTitle>
      </DrawerHeader>
      <DrawerBody className={styles.body}>
        <div className={styles.statusLine}>
          <StatusBadge status={live.status} />
          <Caption1>{lost ? `agent not reachable since ${lostSince}` : `since ${formatDateTime(live.statusSince)}`}</Caption1>
          <FailureMark connection={live} />
        </div>
        <RetryLine connection={live} size="button" />
        {lost && (
          <Banner intent="warning" title={`Agent not reachable since ${lostSince}`} testId="details-lost">
            The status is unknown and the actions are off until it is back. What is shown below is from before.
          </Banner>
        )}
        {live.demo && (
          <Banner intent="info" title="This is the demo" testId="demo-explained">
            A local relay on this machine with one Hybrid Connection to a built-in echo service: no Azure account, nothing leaves this
            machine, and it is never saved with your connections. Send test traffic to watch the counters and the log move; remove the demo
            when you are done.
          </Banner>
        )}
        <div className={styles.actions}>
          {/* disabledFocusable, not disabled: the focus stays on the button (and in the drawer) while it works or the host is away. */}
          {live.demo && (
            <Button
              appearance="primary"
              icon={sending ? <Spinner size="tiny" /> : <Send20Regular />}
              onClick={() => void sendTraffic()}
              disabledFocusable={sending || lost}
            >
              {sending ? 'Sending…' : 'Send test traffic'}
            </Button>
          )}
          <Button
            icon={testing ? <Spinner size="tiny" /> : <Stethoscope20Regular />}
            onClick={() => void runTest()}
            disabledFocusable={testing || lost}
          >
            {testing ? 'Testing…' : 'Test'}
          </Button>
          <Button
            icon={restarted ? <Checkmark20Regular /> : <ArrowClockwise20Regular />}
            onClick={restart}
            disabledFocusable={lost}
            {...restoreFocus}
            data-testid="restart"
          >
            {restarted ? 'Restarted ✓' : 'Restart'}
          </Button>
          <Button icon={<DocumentSearch20Regular />} onClick={viewLogs}>
            View logs
          </Button>
          {!live.demo && replaceButton('replace-key')}
          {endpointEditable && (
            <Button
              icon={<Edit20Regular />}
              onClick={() => setEditing('endpoint')}
              disabledFocusable={lost}
              // The dialog gives the focus back here, and with it the drawer back to screen readers.
              {...restoreFocus}
              data-testid="edit-endpoint"
            >
              Edit endpoint…
            </Button>
          )}
          {live.demo ? (
            <Button icon={<Delete20Regular />} onClick={() => void removeDemo()} disabledFocusable={lost} data-testid="remove-demo">
              Remove demo
            </Button>
          ) : (
            <Button icon={<Delete20Regular />} onClick={() => setConfirm('remove')} disabledFocusable={lost} {...restoreFocus}>
              Remove
            </Button>
          )}
        </div>
        {traffic && <TrafficLine at={traffic.at} result={traffic.result} />}
        {live.endpointChange && (
          <Banner intent="warning" title={endpointChangeText(live.endpointChange)} testId="endpoint-change">
            The Hybrid Connection&apos;s metadata in Azure names {live.endpointChange.to} since {formatDateTime(live.endpointChange.seenAt)}
            . This machine keeps connecting to {live.endpointChange.from}, pinned when the connection was added, until you accept the
            change.
            <div className={styles.bannerAction}>
              <Button
                icon={<ArrowSwap20Regular />}
                onClick={() => setConfirm('accept-endpoint')}
                disabledFocusable={lost}
                {...restoreFocus}
                data-testid="accept-endpoint-change"
              >
                Accept change
              </Button>
            </div>
          </Banner>
        )}
        {!lost && live.lastError && live.status !== 'Connected' && (
          <Banner intent="error" title="Last error" testId="last-error">
            {live.lastError.message} ({formatAgo(live.lastError.at)})
            {live.status === 'Unauthorized' && !live.demo && (
              <div className={styles.bannerAction}>
                {d?.azure
                  ? signedIn
                    ? 'Added through Azure: HCM is fetching the new key by itself; or paste the new connection string here.'
                    : 'Added through Azure: sign in to Azure (at the top) and HCM fetches a rotated key by itself; or paste the new connection string here.'
                  : 'If the key was rotated in Azure, paste the new connection string here.'}{' '}
                {replaceButton('replace-key-banner')}
              </div>
            )}
          </Banner>
        )}
        {failures && (
          <Banner intent="warning" title="Apps' connections failed lately" testId="endpoint-failures">
            {failures.failed} of {failures.total} connections through the relay could not be bridged to {live.endpoint}. The last at{' '}
            {formatDateTime(failures.at)} ({formatAgo(failures.at)}): {failures.message}
          </Banner>
        )}
        {d?.clockProblem && (
          <Banner intent="warning" title="Check this machine's clock" testId="clock-problem">
            {forPeople(d.clockProblem).replace(/\.?$/, '.')} The relay judges every token by its own clock: a few minutes more and it
            refuses them, and this connection stops. Set this machine&apos;s time right (turn on time synchronisation, e.g. NTP).
          </Banner>
        )}
        {test && (
          <section className={styles.section} aria-labelledby="test-title">
            <Subtitle2 as="h3" id="test-title" data-testid="test-title">
              Test {testOutcomeText(test.result)} at {formatTime(test.at)}
            </Subtitle2>
            <TestResultView result={test.result} />
          </section>
        )}
        {!lost && detailsError && (
          <Banner intent="warning" title="Some details could not be read">
            {detailsError}
          </Banner>
        )}
        <section className={styles.section} aria-labelledby="essentials-title">
          <Subtitle2 as="h3" id="essentials-title">
            Essentials
          </Subtitle2>
          <FactList label="Essentials" testId="essentials" facts={facts} />
        </section>
        <section className={styles.section} aria-labelledby="counters-title">
          <Subtitle2 as="h3" id="counters-title">
            Traffic
          </Subtitle2>
          <FactList
            label="Traffic counters"
            testId="counters"
            facts={[
              ['Active connections', formatCount(c.activeConnections)],
              ['Total connections', formatCount(c.totalConnections)],
              ['Failed connections', formatCount(c.failedConnections)],
              ['Sent to endpoint', formatBytes(c.bytesToEndpoint)],
              ['Received from endpoint', formatBytes(c.bytesFromEndpoint)],
              [
                'Last connection',
                c.lastConnectionAt ? `${formatDateTime(c.lastConnectionAt)} (${formatAgo(c.lastConnectionAt)})` : 'None yet',
              ],
            ]}
          />
        </section>
        <OpenConnections connection={live} lost={lost} />
      </DrawerBody>
      {!live.demo && (
        <ReplaceConnectionStringDialog
          open={editing === 'key'}
          connection={live}
          keyName={d?.keyName ?? null}
          onClose={closeEditing}
          onReplaced={(next) =>
            edited(
              next,
              `Replaced the connection string of ${live.name}`,
              `Reconnecting with ${next.keyName ? `the key of ${next.keyName}` : 'it'}.`,
            )
          }
        />
      )}
      {endpointEditable && (
        <EditEndpointDialog
          open={editing === 'endpoint'}
          connection={live}
          onClose={closeEditing}
          onSaved={(next) => edited(next, `Endpoint of ${live.name} changed`, `New connections go to ${next.endpoint}.`)}
        />
      )}
      <RemoveConnectionDialog
        names={[live.name]}
        openTunnels={c.activeConnections}
        open={confirm === 'remove'}
        onCancel={() => setConfirm(null)}
        onConfirm={remove}
      />
      {live.endpointChange && (
        <ConfirmDialog
          open={confirm === 'accept-endpoint'}
          title={`Switch ${live.name} to ${live.endpointChange.to}?`}
          confirmLabel="Accept change"
          confirmTestId="confirm-accept-endpoint"
          onCancel={() => setConfirm(null)}
          onConfirm={acceptEndpoint}
        >
          <strong data-testid="endpoint-change-confirm">New connections will go to {live.endpointChange.to}.</strong> Connections open now
          to {live.endpointChange.from} stay until they close.
        </ConfirmDialog>
      )}
      <ConfirmDialog
        open={confirm === 'restart'}
        title={`Restart ${live.name}?`}
        confirmLabel="Restart"
        confirmTestId="confirm-restart"
        onCancel={() => setConfirm(null)}
        onConfirm={async () => {
          await restartNow();
          setConfirm(null);
        }}
      >
        <strong data-testid="open-tunnels">{openTunnelsSentence(c.activeConnections)}</strong> The apps using them reconnect through the
        relay once the restart is done.
      </ConfirmDialog>
    </>
  );
}

/** What "Send test traffic" did, with its time: the one line the host wrote for people. */
function TrafficLine({ at, result }: { at: string; result: TrafficResult }) {
  const styles = useStyles();
  return (
    <div className={styles.trafficLine} data-testid="traffic-result" data-ok={result.ok}>
      {result.ok ? (
        <CheckmarkCircle16Filled className={styles.ok} aria-hidden />
      ) : (
        <DismissCircle16Filled className={styles.bad} aria-hidden />
      )}
      <span>
        <strong>
          Test traffic {result.ok ? 'passed' : 'did not pass'} at {formatTime(at)}:
        </strong>{' '}
        {result.detail}
      </span>
    </div>
  );
}
