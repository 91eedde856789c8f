import {
  Caption1,
  Link,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  makeStyles,
  tokens,
  useRestoreFocusTarget,
} from '@fluentui/react-components';
import type { ConnectionSummary } from '../../shared/api.js';
import { formatCount } from '../format.js';
import { StatusBadge } from './StatusBadge.js';
import { Traffic } from './Traffic.js';

const useStyles = makeStyles({
  table: { minWidth: '100%' },
  status: {
    display: 'flex',
    flexDirection: 'column',
    alignItems: 'flex-start',
    gap: tokens.spacingVerticalXXS,
    paddingBlock: tokens.spacingVerticalS,
  },
  error: {
    color: tokens.colorPaletteRedForeground1,
    maxWidth: '28ch',
    overflow: 'hidden',
    textOverflow: 'ellipsis',
    whiteSpace: 'nowrap',
  },
  mono: { fontFamily: tokens.fontFamilyMonospace, overflowWrap: 'anywhere' },
  number: { fontVariantNumeric: 'tabular-nums' },
  name: { fontWeight: tokens.fontWeightSemibold },
});

/** The main view on a wide window: one row per Hybrid Connection, updated live. */
export function ConnectionsTable({ connections, onOpen }: { connections: ConnectionSummary[]; onOpen: (id: string) => void }) {
  const styles = useStyles();
  const restoreFocus = useRestoreFocusTarget();
  return (
    <Table className={styles.table} aria-label="Hybrid Connections" data-testid="connections-table">
      <TableHeader>
        <TableRow>
          <TableHeaderCell>Name</TableHeaderCell>
          <TableHeaderCell>Namespace</TableHeaderCell>
          <TableHeaderCell>Endpoint</TableHeaderCell>
          <TableHeaderCell>Status</TableHeaderCell>
          <TableHeaderCell>Active connections</TableHeaderCell>
          <TableHeaderCell>Traffic (to / from endpoint)</TableHeaderCell>
        </TableRow>
      </TableHeader>
      <TableBody>
        {connections.map((c) => (
          <TableRow key={c.id} data-connection={c.id} onClick={() => onOpen(c.id)}>
            <TableCell>
              <Link
                as="button"
                className={styles.name}
                onClick={(e) => (e.stopPropagation(), onOpen(c.id))}
                aria-label={`${c.name}, show details`}
                {...restoreFocus}
                data-details-link
              >
                {c.name}
              </Link>
            </TableCell>
            <TableCell>{c.namespace}</TableCell>
            <TableCell className={styles.mono}>{c.endpoint}</TableCell>
            <TableCell>
              <div className={styles.status}>
                <StatusBadge status={c.status} />
                {c.status !== 'Connected' && c.lastError && (
                  <Caption1 className={styles.error} title={c.lastError.message} data-testid="status-error">
                    {c.lastError.message}
                  </Caption1>
                )}
              </div>
            </TableCell>
            <TableCell className={styles.number} data-testid="active-connections">
              {formatCount(c.counters.activeConnections)}
            </TableCell>
            <TableCell>
              <Traffic counters={c.counters} />
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
