import {
  Button,
  Caption1,
  DrawerBody,
  DrawerHeader,
  DrawerHeaderTitle,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  OverlayDrawer,
  Spinner,
  Subtitle2,
  makeStyles,
  tokens,
  useRestoreFocusTarget,
} from '@fluentui/react-components';
import { ArrowClockwise20Regular, Delete20Regular, Dismiss24Regular, Stethoscope20Regular } from '@fluentui/react-icons';
import { useEffect, useState } from 'react';
import { type ConnectionDetails, type ConnectionSummary, STATUS_LABELS, type TestResult } from '../../shared/api.js';
import { formatAgo, formatBytes, formatCount, formatDateTime } from '../format.js';
import { useHcm } from '../state/use-hcm.js';
import { useNarrow } from '../theme.js';
import { FactList } from './FactList.js';
import { RemoveConnectionDialog } from './RemoveConnectionDialog.js';
import { StatusBadge } from './StatusBadge.js';
import { TestResultView } from './TestResultView.js';
import { useNotify } from './notify.js';
import { ADD_BUTTON_SELECTOR, focusSoon } from '../focus.js';

const useStyles = makeStyles({
  body: { display: 'grid', gap: tokens.spacingVerticalXL, alignContent: 'start', paddingBottom: tokens.spacingVerticalXXL },
  actions: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS },
  section: { display: 'grid', gap: tokens.spacingVerticalM },
  statusLine: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: tokens.spacingHorizontalS },
  mono: { fontFamily: tokens.fontFamilyMonospace },
});

/** Everything known about one connection, live, with restart / test / remove. */
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

function DetailsContent({ summary, onClose }: { summary: ConnectionSummary; onClose: () => void }) {
  const styles = useStyles();
  const bridge = useHcm((s) => s.bridge);
  const notify = useNotify();
  const [details, setDetails] = useState<ConnectionDetails | null>(null);
  const [detailsError, setDetailsError] = useState<string | null>(null);
  const [testing, setTesting] = useState(false);
  const [test, setTest] = useState<TestResult | null>(null);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const restoreFocus = useRestoreFocusTarget();

  // Counters and status come live with every list event; the rest is fetched again when the
  // status changes, because the relay's answer (listener count, dates) may have changed too.
  useEffect(() => {
    let current = true;
    bridge.getConnection(summary.id).then(
      (d) => current && (setDetails(d), setDetailsError(null)),
      (err: Error) => current && setDetailsError(err.message),
    );
    return () => {
      current = false;
    };
  }, [bridge, summary.id, summary.status]);

  const live: ConnectionSummary = summary;
  const restart = async () => {
    try {
      await bridge.restartConnection(live.id);
      notify('info', `Restarting ${live.name}`);
    } catch (err) {
      notify('error', `Could not restart ${live.name}`, (err as Error).message);
    }
  };
  const runTest = async () => {
    setTesting(true);
    setTest(null);
    try {
      setTest(await bridge.testConnection(live.id));
    } catch (err) {
      notify('error', `Could not test ${live.name}`, (err as Error).message);
    } finally {
      setTesting(false);
    }
  };
  const remove = async () => {
    try {
      await bridge.removeConnection(live.id);
      setConfirmRemove(false);
      notify('success', `Removed ${live.name}`);
      onClose();
      // Its row (the drawer's focus target) is gone; continue from Add connection.
      focusSoon(ADD_BUTTON_SELECTOR);
    } catch (err) {
      notify('error', `Could not remove ${live.name}`, (err as Error).message);
    }
  };

  const d = details;
  const c = live.counters;
  return (
    <>
      <DrawerHeader>
        <DrawerHeaderTitle
          heading={{ id: 'details-title' }}
          action={<Button appearance="subtle" aria-label="Close details" icon={<Dismiss24Regular />} onClick={onClose} />}
        >
          {live.name}
        </DrawerHeaderTitle>
      </DrawerHeader>
      <DrawerBody className={styles.body}>
        <div className={styles.statusLine}>
          <StatusBadge status={live.status} />
          <Caption1>since {formatDateTime(live.statusSince)}</Caption1>
        </div>
        <div className={styles.actions}>
          {/* disabledFocusable, not disabled: the focus stays on the button (and in the drawer) while the test runs. */}
          <Button icon={testing ? <Spinner size="tiny" /> : <Stethoscope20Regular />} onClick={runTest} disabledFocusable={testing}>
            {testing ? 'Testing…' : 'Test'}
          </Button>
          <Button icon={<ArrowClockwise20Regular />} onClick={restart}>
            Restart
          </Button>
          <Button icon={<Delete20Regular />} onClick={() => setConfirmRemove(true)} {...restoreFocus}>
            Remove
          </Button>
        </div>
        {live.lastError && live.status !== 'Connected' && (
          <MessageBar intent="error" layout="multiline">
            <MessageBarBody>
              <MessageBarTitle>Last error</MessageBarTitle>
              {live.lastError.message} ({formatAgo(live.lastError.at)})
            </MessageBarBody>
          </MessageBar>
        )}
        {test && (
          <section className={styles.section} aria-labelledby="test-title">
            <Subtitle2 as="h3" id="test-title">
              Test {test.ok ? 'passed' : 'failed'}
            </Subtitle2>
            <TestResultView result={test} />
          </section>
        )}
        {detailsError && (
          <MessageBar intent="warning">
            <MessageBarBody>Some details could not be read: {detailsError}</MessageBarBody>
          </MessageBar>
        )}
        <section className={styles.section} aria-labelledby="essentials-title">
          <Subtitle2 as="h3" id="essentials-title">
            Essentials
          </Subtitle2>
          <FactList
            label="Essentials"
            testId="essentials"
            facts={[
              ['Name', live.name],
              ['Namespace', live.namespace],
              [
                'Endpoint',
                <span className={styles.mono}>
                  {live.endpoint}
                  {d ? (d.endpointSource === 'metadata' ? ' (from the Hybrid Connection)' : ' (set by hand)') : ''}
                </span>,
              ],
              ['Status', `${STATUS_LABELS[live.status]}, since ${formatDateTime(live.statusSince)}`],
              ['Service Bus address', d ? <span className={styles.mono}>{d.serviceBusAddress}</span> : '…'],
              ['Key name', d ? (d.keyName ?? '— (fixed token)') : '…'],
              ['Created', d ? formatDateTime(d.createdAt) : '…'],
              ['Last updated', d ? formatDateTime(d.updatedAt) : '…'],
              [
                'Listeners online',
                d ? (d.listenerCount === null ? 'unknown' : `${d.listenerCount} (all agents on this Hybrid Connection)`) : '…',
              ],
              [
                'Client authorization',
                d
                  ? d.requiresClientAuthorization === null
                    ? 'unknown'
                    : d.requiresClientAuthorization
                      ? 'Required'
                      : 'Not required'
                  : '…',
              ],
              ['Added to this machine', d ? formatDateTime(d.addedAt) : '…'],
              ['Last error', live.lastError ? `${live.lastError.message} — ${formatDateTime(live.lastError.at)}` : 'None'],
            ]}
          />
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
      </DrawerBody>
      <RemoveConnectionDialog name={live.name} open={confirmRemove} onCancel={() => setConfirmRemove(false)} onConfirm={remove} />
    </>
  );
}
