import { useFactListStyles } from './fact-list-styles.js';
import { Card, Checkbox, Link, makeStyles, mergeClasses, tokens, useRestoreFocusTarget } from '@fluentui/react-components';
import { formatCount } from '../format.js';
import type { ConnectionListProps } from './ConnectionsTable.js';
import { DemoBadge } from './DemoBadge.js';
import { DownReason, EndpointChangeMark, FailureMark, RetryLine } from './Health.js';
import { StatusBadge } from './StatusBadge.js';
import { Traffic } from './Traffic.js';

const useStyles = makeStyles({
  list: { listStyle: 'none', margin: 0, padding: 0, display: 'grid', gap: tokens.spacingVerticalM },
  head: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', justifyContent: 'space-between', gap: tokens.spacingHorizontalS },
  title: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: tokens.spacingHorizontalXS, minWidth: 0 },
  name: { fontWeight: tokens.fontWeightSemibold, fontSize: tokens.fontSizeBase400 },
  demo: { backgroundColor: tokens.colorBrandBackground2 },
  status: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: tokens.spacingHorizontalS },
});

/** The same facts as the table, stacked, for narrow windows and high zoom where columns would not fit. */
export function ConnectionCards({ connections, onOpen, checked, onToggle }: ConnectionListProps) {
  const styles = useStyles();
  const facts = useFactListStyles();
  const restoreFocus = useRestoreFocusTarget();
  return (
    <ul className={styles.list} aria-label="Hybrid Connections" data-testid="connections-cards">
      {connections.map((c) => (
        <li key={c.id} data-connection={c.id}>
          <Card className={mergeClasses(c.demo && styles.demo)}>
            <div className={styles.head}>
              <div className={styles.title}>
                <Checkbox checked={checked.has(c.id)} onChange={() => onToggle(c.id)} aria-label={`Select ${c.name}`} />
                <Link
                  as="button"
                  className={styles.name}
                  onClick={() => onOpen(c.id)}
                  aria-label={`${c.name}${c.demo ? ' (demo)' : ''}, show details`}
                  {...restoreFocus}
                  data-details-link
                >
                  {c.name}
                </Link>
                {c.demo && <DemoBadge size="small" />}
              </div>
              <div className={styles.status}>
                <FailureMark connection={c} />
                <StatusBadge status={c.status} />
              </div>
            </div>
            <DownReason connection={c} />
            <RetryLine connection={c} />
            <dl className={facts.facts}>
              <dt className={facts.term}>Namespace</dt>
              <dd className={facts.value}>{c.namespace}</dd>
              <dt className={facts.term}>Endpoint</dt>
              <dd className={facts.value}>
                {c.endpoint} <EndpointChangeMark connection={c} />
              </dd>
              <dt className={facts.term}>Active</dt>
              <dd className={facts.value}>{formatCount(c.counters.activeConnections)}</dd>
              <dt className={facts.term}>Traffic</dt>
              <dd className={facts.value}>
                <Traffic counters={c.counters} />
              </dd>
            </dl>
          </Card>
        </li>
      ))}
    </ul>
  );
}
