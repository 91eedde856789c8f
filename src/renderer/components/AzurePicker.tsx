import { useFactListStyles } from './fact-list-styles.js';
import {
  Body1,
  Button,
  Caption1,
  Card,
  Checkbox,
  Link,
  ProgressBar,
  SearchBox,
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  makeStyles,
  mergeClasses,
  tokens,
} from '@fluentui/react-components';
import {
  Add20Regular,
  ArrowClockwise20Regular,
  CheckmarkCircle16Filled,
  DismissCircle16Filled,
  Info16Regular,
} from '@fluentui/react-icons';
import { type ReactNode, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { createPortal } from 'react-dom';
import type { AzureListing, AzurePickerItem } from '../../shared/api.js';
import {
  type AddOutcome,
  accountLabel,
  addOutcomes,
  filterPickerItems,
  pickBlocker,
  pickerKey,
  progressText,
  progressValue,
  selectionOf,
} from '../azure.js';
import { useHcm } from '../state/use-hcm.js';
import { useNarrow } from '../theme.js';
import { AzureSignIn } from './AzureSignIn.js';
import { Banner, ErrorBanner } from './Banner.js';

/**
 * "Select with Azure" (issue 13): what the signed-in account can see, tenant by tenant down to each
 * Hybrid Connection, with what classic HCM shows (Name, Namespace, Region, Endpoint) and more
 * (listeners online, the App Service app using it). Rows that cannot be added (no endpoint in the
 * metadata, added already) stay in the list, off, with the reason. Filter, tick several, Add: the
 * agent fetches each one's Listen key from Azure.
 */

const useStyles = makeStyles({
  root: { display: 'grid', gridTemplateColumns: 'minmax(0, 1fr)', gap: tokens.spacingVerticalM, minWidth: 0 },
  bar: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: tokens.spacingHorizontalM },
  filter: { flexGrow: 1, minWidth: '10rem', maxWidth: '26rem' },
  who: { color: tokens.colorNeutralForeground3, overflowWrap: 'anywhere' },
  progress: { display: 'grid', gap: tokens.spacingVerticalXS },
  problems: { margin: 0, paddingInlineStart: tokens.spacingHorizontalXL },
  tableWrap: { overflowX: 'auto', minWidth: 0 },
  table: { minWidth: '100%' },
  // Fixed layout: the wide values get the room, the numbers less.
  selectCol: { width: '44px' },
  nameCol: { width: '26%' },
  nsCol: { width: '13%' },
  regionCol: { width: '13%' },
  endpointCol: { width: '19%' },
  listenersCol: { width: '10%' },
  appCol: { width: '19%' },
  off: { color: tokens.colorNeutralForegroundDisabled },
  name: { fontWeight: tokens.fontWeightSemibold, overflowWrap: 'anywhere' },
  where: { display: 'block', color: tokens.colorNeutralForeground3, overflowWrap: 'anywhere' },
  reason: {
    display: 'flex',
    alignItems: 'flex-start',
    gap: tokens.spacingHorizontalXXS,
    color: tokens.colorPaletteMarigoldForeground2,
    overflowWrap: 'anywhere',
  },
  reasonIcon: { flexShrink: 0, marginTop: '2px' },
  mono: { fontFamily: tokens.fontFamilyMonospace, overflowWrap: 'anywhere' },
  cell: { paddingBlock: tokens.spacingVerticalS, verticalAlign: 'top' },
  cards: { listStyle: 'none', margin: 0, padding: 0, display: 'grid', gap: tokens.spacingVerticalS },
  cardHead: { display: 'flex', alignItems: 'flex-start', gap: tokens.spacingHorizontalS },
  results: { listStyle: 'none', margin: 0, padding: 0, display: 'grid', gap: tokens.spacingVerticalXXS },
  result: { display: 'grid', gridTemplateColumns: 'auto minmax(0, 1fr)', columnGap: tokens.spacingHorizontalS, overflowWrap: 'anywhere' },
  ok: { color: tokens.colorPaletteGreenForeground1, marginTop: '3px' },
  bad: { color: tokens.colorPaletteRedForeground1, marginTop: '3px' },
  count: { color: tokens.colorNeutralForeground3, marginInlineEnd: 'auto', alignSelf: 'center' },
});

interface Props {
  /** Where the dialog's buttons go (the dialog's actions row). */
  actions: HTMLElement | null;
  onClose: () => void;
  /** Every selection was added: their ids and names. */
  onAdded: (ids: string[], names: string[]) => void;
}

type Load = { state: 'loading' } | { state: 'done'; listing: AzureListing } | { state: 'failed'; error: unknown };

/** Sign in first when needed, then the picker. */
export function AzureWay({ actions, onClose, onAdded }: Props) {
  const azure = useHcm((s) => s.azure);
  const closeButton = (
    <Button appearance="secondary" onClick={onClose}>
      Cancel
    </Button>
  );
  if (!azure?.account) {
    return (
      <>
        <AzureSignIn intro="Sign in to Azure to pick Hybrid Connections from the subscriptions your account can read. Their keys are fetched for you, and fetched again if they are rotated in Azure." />
        {actions && createPortal(closeButton, actions)}
      </>
    );
  }
  return <AzurePicker actions={actions} onClose={onClose} onAdded={onAdded} />;
}

function AzurePicker({ actions, onClose, onAdded }: Props) {
  const styles = useStyles();
  const hcm = useHcm((s) => s.hcm);
  const azure = useHcm((s) => s.azure);
  const progress = useHcm((s) => s.azureProgress);
  const setProgress = useHcm((s) => s.setAzureProgress);
  const connections = useHcm((s) => s.connections);
  const lost = useHcm((s) => s.link === 'lost');
  const narrow = useNarrow(900);
  const [load, setLoad] = useState<Load>({ state: 'loading' });
  const [filter, setFilter] = useState('');
  const [ticked, setTicked] = useState<string[]>([]);
  const [adding, setAdding] = useState(false);
  const [outcomes, setOutcomes] = useState<AddOutcome[] | null>(null);
  const [addError, setAddError] = useState<unknown>(null);
  const latest = useRef(0);

  const list = useCallback(() => {
    const request = ++latest.current;
    setProgress(null);
    setLoad({ state: 'loading' });
    hcm.listAzureHybridConnections().then(
      (listing) => request === latest.current && setLoad({ state: 'done', listing }),
      (error: unknown) => request === latest.current && setLoad({ state: 'failed', error }),
    );
  }, [hcm, setProgress]);
  // Listed afresh each time the picker opens (and when the account changes): Azure is the truth.
  const account = azure?.account?.username;
  useEffect(() => {
    list();
    return () => {
      latest.current += 1;
    };
  }, [list, account]);

  const added = useMemo(() => new Set(connections.map((c) => c.id.toLowerCase())), [connections]);
  const items = load.state === 'done' ? load.listing.items : [];
  const shown = useMemo(() => filterPickerItems(items, filter), [items, filter]);
  const pickable = useCallback((i: AzurePickerItem) => pickBlocker(i, added) === null, [added]);
  // A row that became unpickable (added meanwhile) drops out of the selection.
  const selected = useMemo(() => items.filter((i) => ticked.includes(pickerKey(i)) && pickable(i)), [items, ticked, pickable]);
  const shownPickable = shown.filter(pickable);
  const shownTicked = shownPickable.filter((i) => ticked.includes(pickerKey(i))).length;

  const toggle = (item: AzurePickerItem) => {
    const key = pickerKey(item);
    setTicked((t) => (t.includes(key) ? t.filter((k) => k !== key) : [...t, key]));
  };
  const toggleAll = () => {
    const keys = shownPickable.map(pickerKey);
    setTicked((t) => (shownTicked === keys.length ? t.filter((k) => !keys.includes(k)) : [...new Set([...t, ...keys])]));
  };

  const add = async () => {
    if (selected.length === 0 || adding) return;
    setAdding(true);
    setAddError(null);
    setOutcomes(null);
    try {
      const results = await hcm.addFromAzure(selected.map(selectionOf));
      const lines = addOutcomes(results);
      const ids = results.filter((r) => r.ok).map((r) => r.id ?? `${r.selection.namespace}/${r.selection.name}`);
      if (lines.every((l) => l.ok)) {
        onAdded(
          ids,
          lines.map((l) => l.name),
        );
        return;
      }
      // The ones added are off now ("Already added", from the connections list); the rest stay ticked to try again.
      setOutcomes(lines);
    } catch (err) {
      setAddError(err);
    } finally {
      setAdding(false);
    }
  };

  const buttons = (
    <>
      <Text className={styles.count} data-testid="picker-selected" aria-live="polite">
        {selected.length === 0 ? 'None selected' : `${selected.length} selected`}
      </Text>
      <Button appearance="secondary" onClick={onClose}>
        {outcomes ? 'Close' : 'Cancel'}
      </Button>
      <Button
        appearance="primary"
        icon={adding ? <Spinner size="tiny" /> : <Add20Regular />}
        disabledFocusable={selected.length === 0 || adding || lost}
        onClick={() => void add()}
        data-testid="picker-add"
      >
        {adding ? 'Adding…' : selected.length > 1 ? `Add ${selected.length}` : 'Add'}
      </Button>
    </>
  );

  return (
    <div className={styles.root} data-testid="azure-picker">
      <Caption1 className={styles.who}>
        Signed in as {azure?.account ? accountLabel(azure.account) : ''} · {azure?.cloudLabel}
      </Caption1>
      <div className={styles.bar}>
        <SearchBox
          className={styles.filter}
          value={filter}
          onChange={(_, data) => setFilter(data.value)}
          placeholder="Filter by name, namespace, region, endpoint or app"
          aria-label="Filter Hybrid Connections"
          data-testid="picker-filter"
        />
        <Button icon={<ArrowClockwise20Regular />} onClick={list} disabledFocusable={load.state === 'loading' || lost}>
          Refresh
        </Button>
      </div>
      {load.state === 'loading' && (
        <div className={styles.progress} data-testid="picker-progress">
          <ProgressBar value={progressValue(progress)} thickness="large" aria-label="Listing Hybrid Connections" />
          <Caption1 aria-live="polite">{progressText(progress)}</Caption1>
        </div>
      )}
      {load.state === 'failed' && <ErrorBanner error={load.error} title="Could not list the Hybrid Connections" testId="picker-error" />}
      {load.state === 'done' && load.listing.problems.length > 0 && (
        <Banner intent="warning" title="Some of Azure could not be read" testId="picker-problems">
          <ul className={styles.problems}>
            {load.listing.problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </Banner>
      )}
      {addError !== null && <ErrorBanner error={addError} title="Nothing was added" testId="picker-add-error" />}
      {outcomes && <Outcomes outcomes={outcomes} />}
      {load.state === 'done' &&
        (items.length === 0 ? (
          <Body1 data-testid="picker-empty">No Hybrid Connections in the subscriptions this account can read.</Body1>
        ) : shown.length === 0 ? (
          <Body1>
            No Hybrid Connection matches “{filter}”.{' '}
            <Link as="button" onClick={() => setFilter('')}>
              Clear the filter
            </Link>
          </Body1>
        ) : narrow ? (
          <PickerCards items={shown} added={added} ticked={ticked} onToggle={toggle} />
        ) : (
          <PickerTable
            items={shown}
            added={added}
            ticked={ticked}
            onToggle={toggle}
            onToggleAll={toggleAll}
            all={shownPickable.length > 0 && shownTicked === shownPickable.length ? true : shownTicked > 0 ? 'mixed' : false}
            anyPickable={shownPickable.length > 0}
          />
        ))}
      {actions && createPortal(buttons, actions)}
    </div>
  );
}

interface RowsProps {
  items: AzurePickerItem[];
  added: ReadonlySet<string>;
  ticked: string[];
  onToggle: (item: AzurePickerItem) => void;
}

const listeners = (i: AzurePickerItem) => (i.listenerCount === null ? 'unknown' : String(i.listenerCount));
const apps = (i: AzurePickerItem) => (i.apps.length ? i.apps.join(', ') : '—');
const reasonId = (i: AzurePickerItem) => `pick-reason-${pickerKey(i).replace(/[^a-z0-9]+/g, '-')}`;

function Blocker({ item, reason }: { item: AzurePickerItem; reason: string }) {
  const styles = useStyles();
  return (
    <Caption1 className={styles.reason} id={reasonId(item)} data-testid="pick-blocked">
      <Info16Regular className={styles.reasonIcon} aria-hidden />
      {reason}
    </Caption1>
  );
}

function PickerTable({
  items,
  added,
  ticked,
  onToggle,
  onToggleAll,
  all,
  anyPickable,
}: RowsProps & { onToggleAll: () => void; all: boolean | 'mixed'; anyPickable: boolean }) {
  const styles = useStyles();
  return (
    <div className={styles.tableWrap}>
      <Table className={styles.table} aria-label="Hybrid Connections in Azure" data-testid="picker-table">
        <TableHeader>
          <TableRow>
            <TableHeaderCell className={styles.selectCol}>
              <Checkbox
                checked={all}
                onChange={onToggleAll}
                disabled={!anyPickable}
                aria-label={all === true ? 'Clear the selection' : 'Select all shown Hybrid Connections that can be added'}
              />
            </TableHeaderCell>
            <TableHeaderCell scope="col" className={styles.nameCol}>
              Name
            </TableHeaderCell>
            <TableHeaderCell scope="col" className={styles.nsCol}>
              Namespace
            </TableHeaderCell>
            <TableHeaderCell scope="col" className={styles.regionCol}>
              Region
            </TableHeaderCell>
            <TableHeaderCell scope="col" className={styles.endpointCol}>
              Endpoint
            </TableHeaderCell>
            <TableHeaderCell scope="col" className={styles.listenersCol}>
              Listeners
            </TableHeaderCell>
            <TableHeaderCell scope="col" className={styles.appCol}>
              App Service app
            </TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {items.map((i) => {
            const reason = pickBlocker(i, added);
            const off = reason !== null;
            const cell = (children: ReactNode, className?: string) => (
              <TableCell className={mergeClasses(styles.cell, off && styles.off, className)}>{children}</TableCell>
            );
            return (
              <TableRow
                key={pickerKey(i)}
                data-pick={i.connectionId}
                data-disabled={off}
                aria-disabled={off || undefined}
                onClick={() => !off && onToggle(i)}
              >
                <TableCell className={styles.cell}>
                  <Checkbox
                    checked={!off && ticked.includes(pickerKey(i))}
                    disabled={off}
                    onClick={(e) => e.stopPropagation()}
                    onChange={() => onToggle(i)}
                    aria-label={`Select ${i.name} in ${i.namespace}`}
                    aria-describedby={off ? reasonId(i) : undefined}
                  />
                </TableCell>
                {cell(
                  <>
                    <span className={styles.name}>{i.name}</span>
                    <Caption1 className={styles.where}>
                      {i.subscriptionName} / {i.resourceGroup}
                    </Caption1>
                    {reason && <Blocker item={i} reason={reason} />}
                  </>,
                )}
                {cell(i.namespace)}
                {cell(i.region)}
                {cell(i.endpoint ?? '—', styles.mono)}
                {cell(listeners(i))}
                {cell(apps(i))}
              </TableRow>
            );
          })}
        </TableBody>
      </Table>
    </div>
  );
}

/** The same rows stacked, for narrow windows and high zoom. */
function PickerCards({ items, added, ticked, onToggle }: RowsProps) {
  const styles = useStyles();
  const facts = useFactListStyles();
  return (
    <ul className={styles.cards} aria-label="Hybrid Connections in Azure" data-testid="picker-cards">
      {items.map((i) => {
        const reason = pickBlocker(i, added);
        const off = reason !== null;
        return (
          <li key={pickerKey(i)} data-pick={i.connectionId} data-disabled={off}>
            <Card>
              <div className={styles.cardHead}>
                <Checkbox
                  checked={!off && ticked.includes(pickerKey(i))}
                  disabled={off}
                  onChange={() => onToggle(i)}
                  aria-label={`Select ${i.name} in ${i.namespace}`}
                  aria-describedby={off ? reasonId(i) : undefined}
                />
                <div>
                  <span className={mergeClasses(styles.name, off && styles.off)}>{i.name}</span>
                  <Caption1 className={styles.where}>
                    {i.subscriptionName} / {i.resourceGroup}
                  </Caption1>
                  {reason && <Blocker item={i} reason={reason} />}
                </div>
              </div>
              <dl className={mergeClasses(facts.facts, off && styles.off)}>
                <dt className={facts.term}>Namespace</dt>
                <dd className={facts.value}>{i.namespace}</dd>
                <dt className={facts.term}>Region</dt>
                <dd className={facts.value}>{i.region}</dd>
                <dt className={facts.term}>Endpoint</dt>
                <dd className={mergeClasses(facts.value, styles.mono)}>{i.endpoint ?? '—'}</dd>
                <dt className={facts.term}>Listeners</dt>
                <dd className={facts.value}>{listeners(i)}</dd>
                <dt className={facts.term}>App Service app</dt>
                <dd className={facts.value}>{apps(i)}</dd>
              </dl>
            </Card>
          </li>
        );
      })}
    </ul>
  );
}

/** What Add did, one line per Hybrid Connection (shown when some could not be added). */
function Outcomes({ outcomes }: { outcomes: AddOutcome[] }) {
  const styles = useStyles();
  const failed = outcomes.filter((o) => !o.ok).length;
  return (
    <Banner
      intent={failed === outcomes.length ? 'error' : 'warning'}
      title={`${outcomes.length - failed} of ${outcomes.length} added`}
      testId="picker-results"
      role="alert"
    >
      <ul className={styles.results}>
        {outcomes.map((o) => (
          <li key={`${o.namespace}/${o.name}`} className={styles.result} data-result={`${o.namespace}/${o.name}`} data-ok={o.ok}>
            {o.ok ? (
              <CheckmarkCircle16Filled className={styles.ok} aria-hidden />
            ) : (
              <DismissCircle16Filled className={styles.bad} aria-hidden />
            )}
            <span>
              <strong>{o.name}</strong> in {o.namespace}: {o.ok ? 'added' : o.detail}
            </span>
          </li>
        ))}
      </ul>
    </Banner>
  );
}
