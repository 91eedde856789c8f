import {
  Button,
  Caption1,
  Subtitle2,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  makeStyles,
  mergeClasses,
  tokens,
  useRestoreFocusTarget,
} from '@fluentui/react-components';
import { ArrowLeft16Regular, ArrowRight16Regular } from '@fluentui/react-icons';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ConnectionSummary, TunnelInfo } from '../../shared/api.js';
import { formatBytes, formatDuration } from '../format.js';
import { useHcm } from '../state/use-hcm.js';
import { type ReceivedTunnels, SHOWN_TUNNELS, newerTunnels, tunnelAgeMs, tunnelsHeading } from '../tunnels.js';
import { Banner } from './Banner.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { VisuallyHidden } from './VisuallyHidden.js';
import { useNotify, useNotifyError } from './notify.js';

const useStyles = makeStyles({
  section: { display: 'grid', gap: tokens.spacingVerticalM, minWidth: 0 },
  heading: { display: 'flex', flexWrap: 'wrap', alignItems: 'baseline', columnGap: tokens.spacingHorizontalS },
  count: { color: tokens.colorNeutralForeground3 },
  // Sized by content: addresses get the room, the short columns stay on one line.
  table: { tableLayout: 'auto', width: '100%' },
  cell: { paddingBlock: tokens.spacingVerticalXS },
  address: { overflowWrap: 'anywhere', whiteSpace: 'normal' },
  short: { whiteSpace: 'nowrap' },
  bytes: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalXXS, fontVariantNumeric: 'tabular-nums' },
  mono: { fontFamily: tokens.fontFamilyMonospace, fontSize: tokens.fontSizeBase200 },
  configured: { display: 'block', color: tokens.colorNeutralForeground3 },
  empty: { color: tokens.colorNeutralForeground2 },
});

const DETAILS_SELECTOR = '[data-testid="details"]';
const SECTION_SELECTOR = '[data-testid="open-connections"]';

/** This browser's clock, moving every second while `ticking` (ages tick without asking the host). */
function useNow(ticking: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [ticking]);
  return now;
}

/**
 * The live connection inspector: each tunnel open through this Hybrid Connection (the app's
 * address as the relay saw it, how long it has been open, the bytes each way and the endpoint
 * address it went to), kept current by the host's `tunnels` events, with Close for one of them.
 */
export function OpenConnections({ connection, lost }: { connection: ConnectionSummary; lost: boolean }) {
  const styles = useStyles();
  const hcm = useHcm((s) => s.hcm);
  const announce = useHcm((s) => s.announce);
  const notify = useNotify();
  const notifyError = useNotifyError();
  const restoreFocus = useRestoreFocusTarget();
  const [received, setReceived] = useState<ReceivedTunnels | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [closing, setClosing] = useState<TunnelInfo | null>(null);
  /** Set once a `tunnels` event came: from then on the events alone keep the list current. */
  const eventsSeen = useRef(false);
  const id = connection.id;
  const active = connection.counters.activeConnections;
  const rows = received?.list.tunnels.slice(0, SHOWN_TUNNELS) ?? [];
  const now = useNow(rows.length > 0 && !lost);

  const load = useCallback(async () => {
    try {
      const list = await hcm.listTunnels(id, { limit: SHOWN_TUNNELS });
      setReceived((current) => newerTunnels(current, { list, receivedAt: Date.now() }));
      setError(null);
    } catch (err) {
      setError((err as Error).message);
    }
  }, [hcm, id]);

  useEffect(
    () =>
      hcm.on('tunnels', (list) => {
        if (list.connectionId !== id) return;
        eventsSeen.current = true;
        setReceived((current) => newerTunnels(current, { list, receivedAt: Date.now() }));
        setError(null);
      }),
    [hcm, id],
  );

  // Read at once, again when the host is back, and, for a host that sends no `tunnels` events,
  // whenever the number of open connections changes.
  const stale = useRef(true);
  useEffect(() => {
    if (lost) {
      stale.current = true;
      return;
    }
    if (!stale.current && eventsSeen.current) return;
    stale.current = false;
    void load();
  }, [active, lost, load]);

  const closeNow = async (t: TunnelInfo) => {
    const who = t.sender ?? 'an unknown address';
    try {
      const closed = await hcm.closeTunnel(id, t.id);
      setClosing(null);
      if (closed) {
        notify(
          'success',
          `Closed the connection from ${who}`,
          `${formatBytes(t.bytesToEndpoint + t.bytesFromEndpoint)} had gone through it.`,
        );
        announce(`Closed the connection from ${who}.`);
      } else {
        notify('info', `The connection from ${who} had already ended`);
      }
      await load();
    } catch (err) {
      notifyError(`Could not close the connection from ${who}`, err);
    }
    // Its row (the dialog's way back) may be gone: the focus goes to the next Close, or the section.
    setTimeout(() => {
      const panel = document.querySelector(DETAILS_SELECTOR);
      const section = document.querySelector<HTMLElement>(`${DETAILS_SELECTOR} ${SECTION_SELECTOR}`);
      if (!panel || !section || panel.contains(document.activeElement)) return;
      (section.querySelector<HTMLElement>('[data-testid="close-tunnel"]') ?? section).focus();
    }, 100);
  };

  return (
    <section className={styles.section} aria-labelledby="open-connections-title" data-testid="open-connections" tabIndex={-1}>
      <div className={styles.heading}>
        <Subtitle2 as="h3" id="open-connections-title">
          Open connections
        </Subtitle2>
        {received && (
          <Caption1 className={styles.count} data-testid="open-connections-count">
            {tunnelsHeading(received.list, SHOWN_TUNNELS)}
          </Caption1>
        )}
      </div>
      {error && !lost && (
        <Banner intent="warning" title="The open connections could not be read" testId="open-connections-error">
          {error}
        </Banner>
      )}
      {received && rows.length === 0 && (
        <span className={styles.empty} data-testid="open-connections-empty">
          No app is connected through {connection.name} right now. Each connection an app makes through the relay shows here while it is
          open.
        </span>
      )}
      {rows.length > 0 && received && (
        <Table size="small" className={styles.table} aria-label={`Open connections of ${connection.name}`}>
          <TableHeader>
            <TableRow>
              <TableHeaderCell className={styles.cell}>From (app)</TableHeaderCell>
              <TableHeaderCell className={styles.cell}>Open for</TableHeaderCell>
              <TableHeaderCell className={styles.cell}>Traffic</TableHeaderCell>
              <TableHeaderCell className={styles.cell}>Endpoint address</TableHeaderCell>
              <TableHeaderCell className={styles.cell}>
                <VisuallyHidden>Actions</VisuallyHidden>
              </TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {rows.map((t) => (
              <TableRow
                key={t.id}
                data-tunnel={t.id}
                data-sender={t.sender ?? ''}
                data-bytes-to={t.bytesToEndpoint}
                data-bytes-from={t.bytesFromEndpoint}
              >
                <TableCell className={mergeClasses(styles.cell, styles.address)}>
                  <span className={styles.mono} data-testid="tunnel-sender">
                    {t.sender ?? 'unknown (the relay did not say)'}
                  </span>
                </TableCell>
                <TableCell className={mergeClasses(styles.cell, styles.short)} data-testid="tunnel-age">
                  {formatDuration(tunnelAgeMs(t, received, now))}
                </TableCell>
                <TableCell className={mergeClasses(styles.cell, styles.short)}>
                  <span className={styles.bytes} title="Sent to the endpoint">
                    <ArrowRight16Regular aria-hidden />
                    <VisuallyHidden>to endpoint </VisuallyHidden>
                    <span data-testid="tunnel-to">{formatBytes(t.bytesToEndpoint)}</span>
                  </span>
                  <span className={styles.bytes} title="Received from the endpoint">
                    <ArrowLeft16Regular aria-hidden />
                    <VisuallyHidden>from endpoint </VisuallyHidden>
                    <span data-testid="tunnel-from">{formatBytes(t.bytesFromEndpoint)}</span>
                  </span>
                </TableCell>
                <TableCell className={mergeClasses(styles.cell, styles.address)} data-testid="tunnel-endpoint">
                  <span className={styles.mono}>{t.endpointAddress ?? 'not known'}</span>
                  {t.endpoint !== connection.endpoint && <span className={styles.configured}>for {t.endpoint}</span>}
                </TableCell>
                <TableCell className={mergeClasses(styles.cell, styles.short)}>
                  <Button
                    size="small"
                    onClick={() => setClosing(t)}
                    disabledFocusable={lost}
                    // The dialog gives the focus back here, and with it the details back to screen readers.
                    {...restoreFocus}
                    aria-label={`Close the connection from ${t.sender ?? 'an unknown address'}`}
                    data-testid="close-tunnel"
                  >
                    Close
                  </Button>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      <ConfirmDialog
        open={closing !== null}
        title={`Close the connection from ${closing?.sender ?? 'an unknown address'}?`}
        confirmLabel="Close connection"
        confirmTestId="confirm-close-tunnel"
        onCancel={() => setClosing(null)}
        onConfirm={() => (closing ? closeNow(closing) : Promise.resolve())}
      >
        <strong data-testid="close-tunnel-what">
          The app&apos;s connection to {closing?.endpointAddress ?? closing?.endpoint} is cut at once, whatever it is doing.
        </strong>{' '}
        It may reconnect through the relay; the other connections stay open.
      </ConfirmDialog>
    </section>
  );
}
