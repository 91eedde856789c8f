import {
  Button,
  Checkbox,
  Field,
  Link,
  SearchBox,
  Select,
  Spinner,
  Text,
  Toolbar,
  ToolbarButton,
  ToolbarDivider,
  makeStyles,
  tokens,
  useRestoreFocusTarget,
} from '@fluentui/react-components';
import {
  Add20Regular,
  ArrowClockwise20Regular,
  Delete20Regular,
  DocumentSearch20Regular,
  Stethoscope20Regular,
} from '@fluentui/react-icons';
import { useMemo, useState } from 'react';
import type { TestResult } from '../../shared/api.js';
import { formatTime } from '../format.js';
import { stepOutcome, testOutcomeText } from '../test-outcome.js';
import { ADD_BUTTON_SELECTOR, focusSoon } from '../focus.js';
import {
  type SortColumn,
  type SortState,
  filterConnections,
  nextSort,
  openTunnels,
  openTunnelsSentence,
  sortConnections,
} from '../state/connection-list.js';
import { useHcm } from '../state/use-hcm.js';
import { useNarrow } from '../theme.js';
import { Banner } from './Banner.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { ConnectionCards } from './ConnectionCards.js';
import { ConnectionsTable } from './ConnectionsTable.js';
import { EmptyState } from './EmptyState.js';
import { RemoveConnectionDialog } from './RemoveConnectionDialog.js';
import { type Outcome, namesOf, useConnectionActions } from './connection-actions.js';

const useStyles = makeStyles({
  root: { display: 'grid', gridAutoRows: 'max-content', gap: tokens.spacingVerticalM, alignContent: 'start', minWidth: 0 },
  bar: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: tokens.spacingHorizontalM },
  filter: { flexGrow: 1, minWidth: '10rem', maxWidth: '24rem' },
  // A horizontal Field gives its label a third of its width and the list the rest, which overflowed
  // the bar at 800 px; as wide as label and list instead, it wraps onto the next line when short of room.
  sortField: { gridTemplateColumns: 'max-content max-content' },
  count: { color: tokens.colorNeutralForeground3, marginLeft: 'auto' },
  selection: {
    display: 'flex',
    flexWrap: 'wrap',
    alignItems: 'center',
    columnGap: tokens.spacingHorizontalS,
    padding: `${tokens.spacingVerticalXXS} ${tokens.spacingHorizontalS}`,
    borderRadius: tokens.borderRadiusMedium,
    backgroundColor: tokens.colorNeutralBackground2,
  },
  selectionCount: { fontWeight: tokens.fontWeightSemibold, paddingInline: tokens.spacingHorizontalS },
  toolbar: { flexWrap: 'wrap', padding: 0 },
  results: { margin: 0, paddingInlineStart: tokens.spacingHorizontalXL },
});

/** Sort choices where there is no table header to click (cards, on narrow windows and high zoom). */
const SORT_CHOICES: Array<{ value: string; label: string; sort: SortState }> = [
  { value: 'name-a', label: 'Name, A to Z', sort: { column: 'name', direction: 'ascending' } },
  { value: 'name-d', label: 'Name, Z to A', sort: { column: 'name', direction: 'descending' } },
  { value: 'namespace-a', label: 'Namespace, A to Z', sort: { column: 'namespace', direction: 'ascending' } },
  { value: 'endpoint-a', label: 'Endpoint, A to Z', sort: { column: 'endpoint', direction: 'ascending' } },
  { value: 'status-d', label: 'Status, problems first', sort: { column: 'status', direction: 'descending' } },
  { value: 'status-a', label: 'Status, connected first', sort: { column: 'status', direction: 'ascending' } },
  { value: 'active-d', label: 'Most active connections', sort: { column: 'active', direction: 'descending' } },
  { value: 'traffic-d', label: 'Most traffic', sort: { column: 'traffic', direction: 'descending' } },
];

type Confirm = { kind: 'restart' | 'remove'; ids: string[] } | null;
interface BulkTest {
  at: string;
  outcomes: Array<Outcome<TestResult>>;
}

export function ConnectionsView({ onAdd }: { onAdd: () => void }) {
  const styles = useStyles();
  const connections = useHcm((s) => s.connections);
  const loaded = useHcm((s) => s.connectionsLoaded);
  const loadError = useHcm((s) => s.loadError);
  const lost = useHcm((s) => s.link === 'lost');
  const select = useHcm((s) => s.select);
  const sort = useHcm((s) => s.sort);
  const setSort = useHcm((s) => s.setSort);
  const listFilter = useHcm((s) => s.listFilter);
  const setListFilter = useHcm((s) => s.setListFilter);
  const checkedIds = useHcm((s) => s.checked);
  const setChecked = useHcm((s) => s.setChecked);
  const viewLogsOf = useHcm((s) => s.viewLogsOf);
  const actions = useConnectionActions();
  const narrow = useNarrow(900);
  // Dialogs and drawers give the focus back to the control marked as their restore target.
  const restoreFocus = useRestoreFocusTarget();
  const [confirm, setConfirm] = useState<Confirm>(null);
  const [testing, setTesting] = useState(false);
  const [bulkTest, setBulkTest] = useState<BulkTest | null>(null);

  const shown = useMemo(() => sortConnections(filterConnections(connections, listFilter), sort), [connections, listFilter, sort]);
  const checked = useMemo(() => new Set(checkedIds), [checkedIds]);
  // Only what is shown can be acted on: a filter never hides a ticked row from the toolbar's actions.
  const selected = useMemo(() => shown.filter((c) => checked.has(c.id)), [shown, checked]);

  if (loadError) {
    return (
      <Banner intent="error" title="The connections could not be read">
        {loadError}
      </Banner>
    );
  }
  if (!loaded) return <Spinner label="Loading connections…" />;
  if (connections.length === 0) return <EmptyState onAdd={onAdd} />;

  const toggle = (id: string) => setChecked(checked.has(id) ? checkedIds.filter((x) => x !== id) : [...checkedIds, id]);
  const toggleAll = () => {
    const shownIds = new Set(shown.map((c) => c.id));
    if (selected.length === shown.length) setChecked(checkedIds.filter((id) => !shownIds.has(id)));
    else setChecked([...new Set([...checkedIds, ...shownIds])]);
  };
  const onSort = (column: SortColumn) => setSort(nextSort(sort, column));

  const runTests = async () => {
    setTesting(true);
    try {
      const outcomes = await actions.test(selected);
      setBulkTest({ at: new Date().toISOString(), outcomes });
    } finally {
      setTesting(false);
    }
  };
  const viewLogs = () => {
    viewLogsOf(selected.map((c) => c.id));
    // The toolbar goes away with this view; the keyboard continues in the log lines.
    focusSoon('[data-testid="log-lines"]');
  };
  const restart = () => {
    if (openTunnels(selected) > 0) setConfirm({ kind: 'restart', ids: selected.map((c) => c.id) });
    else void actions.restart(selected);
  };
  const confirming = confirm ? connections.filter((c) => confirm.ids.includes(c.id)) : [];
  const demos = connections.filter((c) => c.demo).length;
  const countLine = lost
    ? 'Not updating: the agent is not reachable'
    : `${shown.length === connections.length ? `${connections.length}` : `${shown.length} of ${connections.length}`} connection${
        connections.length === 1 ? '' : 's'
      }${demos ? ` (${demos === connections.length ? 'the demo' : `${demos} demo`})` : ''} · updates live`;
  const sortChoice = SORT_CHOICES.find((c) => c.sort.column === sort.column && c.sort.direction === sort.direction);
  const none = selected.length === 0;

  return (
    <div className={styles.root}>
      <div className={styles.bar}>
        <Button appearance="primary" icon={<Add20Regular />} onClick={onAdd} disabledFocusable={lost} {...restoreFocus} data-add-connection>
          Add connection
        </Button>
        <SearchBox
          className={styles.filter}
          value={listFilter}
          onChange={(_, data) => setListFilter(data.value)}
          placeholder="Filter by name, namespace, endpoint or status"
          aria-label="Filter connections"
          data-testid="connections-filter"
        />
        {narrow && (
          <Field label="Sort by" orientation="horizontal" className={styles.sortField}>
            <Select
              value={sortChoice?.value ?? ''}
              onChange={(_, data) => {
                const choice = SORT_CHOICES.find((c) => c.value === data.value);
                if (choice) setSort(choice.sort);
              }}
              data-testid="sort-by"
            >
              {!sortChoice && <option value="">Custom</option>}
              {SORT_CHOICES.map((c) => (
                <option key={c.value} value={c.value}>
                  {c.label}
                </option>
              ))}
            </Select>
          </Field>
        )}
        <Text className={styles.count} data-testid="connections-count">
          {countLine}
        </Text>
      </div>
      <div className={styles.selection}>
        {narrow && (
          <Checkbox
            checked={selected.length > 0 && selected.length === shown.length ? true : selected.length > 0 ? 'mixed' : false}
            onChange={toggleAll}
            label="All"
            aria-label="Select all shown connections"
          />
        )}
        <Text className={styles.selectionCount} data-testid="selection-count" aria-live="polite">
          {none ? 'None selected' : `${selected.length} selected`}
        </Text>
        <Toolbar className={styles.toolbar} aria-label="Actions on the selected connections" data-testid="selection-toolbar">
          <ToolbarButton
            icon={testing ? <Spinner size="tiny" /> : <Stethoscope20Regular />}
            disabled={none}
            disabledFocusable={testing || lost}
            onClick={() => void runTests()}
          >
            {testing ? 'Testing…' : 'Test'}
          </ToolbarButton>
          <ToolbarButton icon={<ArrowClockwise20Regular />} disabled={none} disabledFocusable={lost} onClick={restart} {...restoreFocus}>
            Restart
          </ToolbarButton>
          <ToolbarButton
            icon={<Delete20Regular />}
            disabled={none}
            disabledFocusable={lost}
            onClick={() => setConfirm({ kind: 'remove', ids: selected.map((c) => c.id) })}
            {...restoreFocus}
          >
            Remove
          </ToolbarButton>
          <ToolbarDivider />
          <ToolbarButton icon={<DocumentSearch20Regular />} disabled={none} onClick={viewLogs}>
            View logs
          </ToolbarButton>
          {!none && (
            <ToolbarButton appearance="subtle" onClick={() => setChecked([])}>
              Clear selection
            </ToolbarButton>
          )}
        </Toolbar>
      </div>
      {bulkTest && <BulkTestBanner test={bulkTest} onOpen={select} />}
      {shown.length === 0 ? (
        <Text>
          No connection matches “{listFilter}”.{' '}
          <Link as="button" onClick={() => setListFilter('')}>
            Clear the filter
          </Link>
        </Text>
      ) : narrow ? (
        <ConnectionCards
          connections={shown}
          onOpen={select}
          checked={checked}
          onToggle={toggle}
          onToggleAll={toggleAll}
          sort={sort}
          onSort={onSort}
        />
      ) : (
        <ConnectionsTable
          connections={shown}
          onOpen={select}
          checked={checked}
          onToggle={toggle}
          onToggleAll={toggleAll}
          sort={sort}
          onSort={onSort}
        />
      )}
      <ConfirmDialog
        open={confirm?.kind === 'restart'}
        title={`Restart ${namesOf(confirming)}?`}
        confirmLabel="Restart"
        confirmTestId="confirm-restart"
        onCancel={() => setConfirm(null)}
        onConfirm={async () => {
          await actions.restart(confirming);
          setConfirm(null);
        }}
      >
        <strong data-testid="open-tunnels">{openTunnelsSentence(openTunnels(confirming))}</strong> The apps using them reconnect through the
        relay once the restart is done.
      </ConfirmDialog>
      <RemoveConnectionDialog
        names={confirming.map((c) => c.name)}
        openTunnels={openTunnels(confirming)}
        open={confirm?.kind === 'remove'}
        onCancel={() => setConfirm(null)}
        onConfirm={async () => {
          const all = await actions.remove(confirming);
          setConfirm(null);
          if (all) setChecked([]);
          // The rows (and the toolbar's focus) may be gone; continue from Add connection.
          focusSoon(ADD_BUTTON_SELECTOR);
        }}
      />
    </div>
  );
}

/** What a Test of several found, at a glance; each connection's details keep its full result. */
function BulkTestBanner({ test, onOpen }: { test: BulkTest; onOpen: (id: string) => void }) {
  const styles = useStyles();
  const passed = test.outcomes.filter((o) => o.value?.ok).length;
  const failed = test.outcomes.length - passed;
  return (
    <Banner
      intent={failed === 0 ? 'success' : 'warning'}
      title={`Tested ${test.outcomes.length} at ${formatTime(test.at)}: ${passed} passed${failed ? `, ${failed} failed` : ''}`}
      testId="bulk-test"
    >
      <ul className={styles.results}>
        {test.outcomes.map((o) => {
          const firstFailure = o.value?.steps.find((s) => !s.ok);
          const firstWarning = o.value?.steps.find((s) => stepOutcome(s) === 'warning');
          return (
            <li key={o.connection.id} data-test-of={o.connection.id}>
              <Link as="button" onClick={() => onOpen(o.connection.id)}>
                {o.connection.name}
              </Link>
              {': '}
              {o.value
                ? o.value.ok
                  ? firstWarning
                    ? `${testOutcomeText(o.value)} (${firstWarning.name}: ${firstWarning.detail})`
                    : 'passed'
                  : `failed (${firstFailure?.name}: ${firstFailure?.detail})`
                : `not tested (${o.error})`}
            </li>
          );
        })}
      </ul>
    </Banner>
  );
}
