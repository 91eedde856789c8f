import { Button, Caption1, Link, Spinner, Tooltip, makeStyles, tokens } from '@fluentui/react-components';
import { ArrowClockwise16Regular, ArrowSwap16Regular, Warning16Filled } from '@fluentui/react-icons';
import { useEffect, useState } from 'react';
import type { ConnectionSummary } from '../../shared/api.js';
import { endpointChangeText } from '../azure.js';
import { formatAgo, formatDateTime } from '../format.js';
import { failuresLabel, recentFailures, retryText, secondsToRetry } from '../health.js';
import { useHcm } from '../state/use-hcm.js';
import { VisuallyHidden } from './VisuallyHidden.js';
import { useConnectionActions } from './connection-actions.js';

const useStyles = makeStyles({
  mark: {
    display: 'inline-flex',
    alignItems: 'center',
    gap: tokens.spacingHorizontalXXS,
    color: tokens.colorPaletteMarigoldForeground2,
    fontWeight: tokens.fontWeightSemibold,
    fontSize: tokens.fontSizeBase200,
    borderRadius: tokens.borderRadiusMedium,
    cursor: 'default',
    ':focus-visible': { outline: `2px solid ${tokens.colorStrokeFocus2}`, outlineOffset: '1px' },
  },
  tip: { maxWidth: '28rem', overflowWrap: 'anywhere' },
  reason: { color: tokens.colorPaletteRedForeground1, overflowWrap: 'anywhere', whiteSpace: 'normal' },
  retry: { display: 'inline-flex', flexWrap: 'wrap', alignItems: 'center', columnGap: tokens.spacingHorizontalS, rowGap: '2px' },
  countdown: { fontVariantNumeric: 'tabular-nums', color: tokens.colorNeutralForeground2 },
});

/** The current time, again every second while `active` (a countdown on screen). */
export function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

/**
 * "⚠ 3 failed" next to Connected: the channel is up, but apps' connections could not reach the
 * endpoint lately. The tooltip (on hover and on keyboard focus) says the last error and when;
 * screen readers get the same words inside the mark.
 */
export function FailureMark({ connection }: { connection: ConnectionSummary }) {
  const styles = useStyles();
  const lost = useHcm((s) => s.link === 'lost');
  const f = lost ? null : recentFailures(connection);
  if (!f) return null;
  const when = `${formatDateTime(f.at)} (${formatAgo(f.at)})`;
  return (
    <Tooltip
      relationship="inaccessible"
      withArrow
      content={{
        className: styles.tip,
        children: (
          <span data-testid="failure-tip">
            <strong>
              {f.failed} of {f.total} connections not bridged.
            </strong>{' '}
            Last at {when}: {f.message}
          </span>
        ),
      }}
    >
      <span className={styles.mark} tabIndex={0} data-testid="failure-mark">
        <Warning16Filled aria-hidden />
        <span data-testid="failure-count">{failuresLabel(f)}</span>
        <VisuallyHidden>
          {' '}
          recently: the last at {when}: {f.message}
        </VisuallyHidden>
      </span>
    </Tooltip>
  );
}

/** The reason a connection is down, in full: wrapped, never cut. */
export function DownReason({ connection }: { connection: ConnectionSummary }) {
  const styles = useStyles();
  const lost = useHcm((s) => s.link === 'lost');
  if (lost || connection.status === 'Connected' || !connection.lastError) return null;
  return (
    <Caption1 className={styles.reason} data-testid="status-error">
      {connection.lastError.message}
    </Caption1>
  );
}

/**
 * "Retrying in 12 s · Retry now" while a down connection waits for its next try. Retry now is a
 * restart of that connection: it tries at once instead of waiting out the backoff.
 */
export function RetryLine({ connection, size = 'link' }: { connection: ConnectionSummary; size?: 'link' | 'button' }) {
  const styles = useStyles();
  const lost = useHcm((s) => s.link === 'lost');
  const actions = useConnectionActions();
  const [asked, setAsked] = useState<string | null>(null);
  const waiting = !lost && connection.status !== 'Connected' && connection.retryAt !== null;
  const now = useNow(waiting);
  // A new schedule (or none) from the host ends "asked".
  useEffect(() => setAsked(null), [connection.retryAt, connection.status]);
  if (!waiting) return null;
  const seconds = secondsToRetry(connection.retryAt, now) ?? 0;
  const retrying = asked === connection.retryAt;
  const retryNow = async () => {
    setAsked(connection.retryAt);
    if (!(await actions.retry(connection))) setAsked(null);
  };
  const label = `Retry ${connection.name} now`;
  return (
    <span className={styles.retry} data-testid="retry-line">
      <Caption1 className={styles.countdown} data-testid="retry-in" data-seconds={seconds}>
        {retrying ? 'Retrying now…' : retryText(seconds)}
      </Caption1>
      {size === 'button' ? (
        <Button
          size="small"
          icon={retrying ? <Spinner size="extra-tiny" /> : <ArrowClockwise16Regular />}
          disabledFocusable={retrying}
          onClick={() => void retryNow()}
          data-testid="retry-now"
        >
          Retry now
        </Button>
      ) : (
        <Link
          as="button"
          aria-label={label}
          disabled={retrying}
          onClick={(e) => {
            e.stopPropagation();
            void retryNow();
          }}
          data-testid="retry-now"
        >
          Retry now
        </Link>
      )}
    </span>
  );
}

/**
 * "⇄ changed in Azure" next to the endpoint: the Hybrid Connection's metadata names another
 * endpoint than the one pinned here (issue 15). The tooltip, on hover and keyboard focus, says from
 * what to what and since when; the details have "Accept change".
 */
export function EndpointChangeMark({ connection }: { connection: ConnectionSummary }) {
  const styles = useStyles();
  const change = connection.endpointChange;
  if (!change) return null;
  const text = endpointChangeText(change);
  const since = `${formatDateTime(change.seenAt)} (${formatAgo(change.seenAt)})`;
  return (
    <Tooltip
      relationship="inaccessible"
      withArrow
      content={{
        className: styles.tip,
        children: (
          <span data-testid="endpoint-change-tip">
            <strong>{text}</strong> (seen {since}). New connections still go to {change.from} until the change is accepted in the details.
          </span>
        ),
      }}
    >
      <span className={styles.mark} tabIndex={0} data-testid="endpoint-change-mark">
        <ArrowSwap16Regular aria-hidden />
        <span>changed in Azure</span>
        <VisuallyHidden>
          : {text}, seen {since}. New connections still go to {change.from} until the change is accepted in the details.
        </VisuallyHidden>
      </span>
    </Tooltip>
  );
}
