import {
  Link,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  TableSelectionCell,
  makeStyles,
  tokens,
  useRestoreFocusTarget,
} from '@fluentui/react-components';
import type { ConnectionSummary } from '../../shared/api.js';
import { formatCount } from '../format.js';
import type { SortColumn, SortState } from '../state/connection-list.js';
import { DemoBadge } from './DemoBadge.js';
import { DownReason, EndpointChangeMark, FailureMark, RetryLine } from './Health.js';
import { StatusBadge } from './StatusBadge.js';
import { Traffic } from './Traffic.js';

const useStyles = makeStyles({
  table: { minWidth: '100%' },
  nameCell: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', columnGap: tokens.spacingHorizontalS, rowGap: '2px' },
  statusCell: {
    display: 'flex',
    flexDirection: 'column',
    alignItems: 'flex-start',
    gap: tokens.spacingVerticalXXS,
    paddingBlock: tokens.spacingVerticalS,
  },
  statusTop: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', columnGap: tokens.spacingHorizontalS, rowGap: '2px' },
  mono: { fontFamily: tokens.fontFamilyMonospace, overflowWrap: 'anywhere' },
  endpointCell: { display: 'flex', flexDirection: 'column', alignItems: 'flex-start', gap: '2px', minWidth: 0 },
  number: { fontVariantNumeric: 'tabular-nums' },
  nameLink: { fontWeight: tokens.fontWeightSemibold },
  demoRow: { backgroundColor: tokens.colorBrandBackground2 },
  // The table lays out fixed; give the wide values the room and the numbers less.
  selectCol: { width: '44px' },
  // Status gets the most: the reason a connection is down is shown in full, wrapped.
  name: { width: '17%' },
  namespace: { width: '12%' },
  endpoint: { width: '20%' },
  status: { width: '25%' },
  active: { width: '10%' },
  traffic: { width: '16%' },
});

const COLUMNS: Array<{ column: SortColumn; label: string }> = [
  { column: 'name', label: 'Name' },
  { column: 'namespace', label: 'Namespace' },
  { column: 'endpoint', label: 'Endpoint' },
  { column: 'status', label: 'Status' },
  { column: 'active', label: 'Active connections' },
  { column: 'traffic', label: 'Traffic (to / from endpoint)' },
];

export interface ConnectionListProps {
  /** Already filtered and sorted. */
  connections: ConnectionSummary[];
  onOpen: (id: string) => void;
  checked: ReadonlySet<string>;
  onToggle: (id: string) => void;
  onToggleAll: () => void;
  sort: SortState;
  onSort: (column: SortColumn) => void;
}

/** The main view on a wide window: one row per Hybrid Connection, updated live, sortable and selectable. */
export function ConnectionsTable({ connections, onOpen, checked, onToggle, onToggleAll, sort, onSort }: ConnectionListProps) {
  const styles = useStyles();
  const restoreFocus = useRestoreFocusTarget();
  const ticked = connections.filter((c) => checked.has(c.id)).length;
  const all = ticked > 0 && ticked === connections.length ? true : ticked > 0 ? 'mixed' : false;
  return (
    <Table className={styles.table} sortable aria-label="Hybrid Connections" data-testid="connections-table">
      <TableHeader>
        <TableRow>
          <TableSelectionCell
            className={styles.selectCol}
            checked={all}
            onClick={onToggleAll}
            checkboxIndicator={{ 'aria-label': all === true ? 'Clear the selection' : 'Select all shown connections' }}
            data-testid="select-all"
          />
          {COLUMNS.map(({ column, label }) => (
            <TableHeaderCell
              key={column}
              // Explicit: next to the selection cell (a td), browsers would take the first th for a row header.
              scope="col"
              className={styles[column]}
              sortDirection={sort.column === column ? sort.direction : undefined}
              onClick={() => onSort(column)}
              data-sort-column={column}
            >
              {label}
            </TableHeaderCell>
          ))}
        </TableRow>
      </TableHeader>
      <TableBody>
        {connections.map((c) => (
          <TableRow key={c.id} data-connection={c.id} className={c.demo ? styles.demoRow : undefined} onClick={() => onOpen(c.id)}>
            <TableSelectionCell
              checked={checked.has(c.id)}
              onClick={(e) => (e.stopPropagation(), onToggle(c.id))}
              checkboxIndicator={{ 'aria-label': `Select ${c.name}` }}
            />
            <TableCell>
              <div className={styles.nameCell}>
                <Link
                  as="button"
                  className={styles.nameLink}
                  onClick={(e) => (e.stopPropagation(), onOpen(c.id))}
                  aria-label={`${c.name}${c.demo ? ' (demo)' : ''}, show details`}
                  {...restoreFocus}
                  data-details-link
                >
                  {c.name}
                </Link>
                {c.demo && <DemoBadge size="small" />}
              </div>
            </TableCell>
            <TableCell>{c.namespace}</TableCell>
            <TableCell>
              <div className={styles.endpointCell}>
                <span className={styles.mono}>{c.endpoint}</span>
                <EndpointChangeMark connection={c} />
              </div>
            </TableCell>
            <TableCell>
              <div className={styles.statusCell}>
                <div className={styles.statusTop}>
                  <StatusBadge status={c.status} />
                  <FailureMark connection={c} />
                </div>
                <DownReason connection={c} />
                <RetryLine connection={c} />
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
