import { Caption1, Card, Link, makeStyles, tokens, useRestoreFocusTarget } from '@fluentui/react-components';
import type { ConnectionSummary } from '../../shared/api.js';
import { formatCount } from '../format.js';
import { StatusBadge } from './StatusBadge.js';
import { Traffic } from './Traffic.js';

const useStyles = makeStyles({
  list: { listStyle: 'none', margin: 0, padding: 0, display: 'grid', gap: tokens.spacingVerticalM },
  head: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', justifyContent: 'space-between', gap: tokens.spacingHorizontalS },
  name: { fontWeight: tokens.fontWeightSemibold, fontSize: tokens.fontSizeBase400 },
  facts: {
    display: 'grid',
    gridTemplateColumns: 'max-content 1fr',
    columnGap: tokens.spacingHorizontalM,
    rowGap: tokens.spacingVerticalXXS,
    margin: 0,
  },
  term: { color: tokens.colorNeutralForeground3 },
  value: { margin: 0, overflowWrap: 'anywhere' },
  error: { color: tokens.colorPaletteRedForeground1, overflowWrap: 'anywhere' },
});

/** The same facts as the table, stacked, for narrow windows and high zoom where columns would not fit. */
export function ConnectionCards({ connections, onOpen }: { connections: ConnectionSummary[]; onOpen: (id: string) => void }) {
  const styles = useStyles();
  const restoreFocus = useRestoreFocusTarget();
  return (
    <ul className={styles.list} aria-label="Hybrid Connections" data-testid="connections-cards">
      {connections.map((c) => (
        <li key={c.id} data-connection={c.id}>
          <Card>
            <div className={styles.head}>
              <Link
                as="button"
                className={styles.name}
                onClick={() => onOpen(c.id)}
                aria-label={`${c.name}, show details`}
                {...restoreFocus}
                data-details-link
              >
                {c.name}
              </Link>
              <StatusBadge status={c.status} />
            </div>
            {c.status !== 'Connected' && c.lastError && <Caption1 className={styles.error}>{c.lastError.message}</Caption1>}
            <dl className={styles.facts}>
              <dt className={styles.term}>Namespace</dt>
              <dd className={styles.value}>{c.namespace}</dd>
              <dt className={styles.term}>Endpoint</dt>
              <dd className={styles.value}>{c.endpoint}</dd>
              <dt className={styles.term}>Active</dt>
              <dd className={styles.value}>{formatCount(c.counters.activeConnections)}</dd>
              <dt className={styles.term}>Traffic</dt>
              <dd className={styles.value}>
                <Traffic counters={c.counters} />
              </dd>
            </dl>
          </Card>
        </li>
      ))}
    </ul>
  );
}
