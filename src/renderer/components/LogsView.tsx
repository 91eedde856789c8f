import { Button, Dropdown, Field, Option, SearchBox, Switch, Text, makeStyles, mergeClasses, tokens } from '@fluentui/react-components';
import { Copy20Regular, FolderOpen20Regular } from '@fluentui/react-icons';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { LogLevel } from '../../shared/api.js';
import { formatLogTime } from '../format.js';
import { filterLogs, logsAsText } from '../state/log-buffer.js';
import { useHcm } from '../state/use-hcm.js';
import { useNotify, useNotifyError } from './notify.js';

const useStyles = makeStyles({
  root: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM, flexGrow: 1, minHeight: '16rem' },
  toolbar: { display: 'flex', flexWrap: 'wrap', alignItems: 'flex-end', gap: tokens.spacingHorizontalM },
  search: { minWidth: '12rem', flexGrow: 1, maxWidth: '28rem' },
  lines: {
    flexGrow: 1,
    minHeight: '8rem',
    margin: 0,
    padding: tokens.spacingVerticalS,
    listStyle: 'none',
    overflow: 'auto',
    fontFamily: tokens.fontFamilyMonospace,
    fontSize: tokens.fontSizeBase200,
    lineHeight: tokens.lineHeightBase300,
    backgroundColor: tokens.colorNeutralBackground2,
    border: `1px solid ${tokens.colorNeutralStroke2}`,
    borderRadius: tokens.borderRadiusMedium,
    userSelect: 'text',
  },
  line: { display: 'flex', flexWrap: 'wrap', columnGap: tokens.spacingHorizontalS, paddingBlock: '1px', overflowWrap: 'anywhere' },
  time: { color: tokens.colorNeutralForeground3, whiteSpace: 'nowrap' },
  level: { minWidth: '5ch', fontWeight: tokens.fontWeightSemibold, textTransform: 'uppercase' },
  debug: { color: tokens.colorNeutralForeground3 },
  info: { color: tokens.colorBrandForeground1 },
  warn: { color: tokens.colorPaletteMarigoldForeground2 },
  error: { color: tokens.colorPaletteRedForeground1 },
  connection: { color: tokens.colorNeutralForeground2 },
  message: { flexBasis: '20rem', flexGrow: 1, minWidth: 0 },
  footer: { color: tokens.colorNeutralForeground3 },
  agent: {
    display: 'flex',
    flexWrap: 'wrap',
    alignItems: 'flex-end',
    gap: tokens.spacingHorizontalM,
    paddingBottom: tokens.spacingVerticalS,
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
  },
  agentHint: { color: tokens.colorNeutralForeground3, alignSelf: 'center', flexBasis: '16rem', flexGrow: 1 },
});

const LEVELS: Array<{ value: LogLevel; label: string }> = [
  { value: 'debug', label: 'Everything (debug and up)' },
  { value: 'info', label: 'Info and up' },
  { value: 'warn', label: 'Warnings and errors' },
  { value: 'error', label: 'Errors only' },
];

const ALL = '*';

/** What the agent itself writes (its log level, changed while it runs): a different thing from what this view shows. */
const AGENT_LEVELS: Array<{ value: LogLevel; label: string }> = [
  { value: 'debug', label: 'Debug: everything' },
  { value: 'info', label: 'Info: connections and tunnels' },
  { value: 'warn', label: 'Warnings and errors' },
  { value: 'error', label: 'Errors only' },
];

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** The agent's log level, with a way to change it at run time; "Open log folder" in the desktop app. */
function AgentLogging() {
  const styles = useStyles();
  const hcm = useHcm((s) => s.hcm);
  const level = useHcm((s) => s.logLevel);
  const setLevel = useHcm((s) => s.setLogLevel);
  const lost = useHcm((s) => s.link === 'lost');
  const desktop = useHcm((s) => s.appInfo?.host === 'electron');
  const minLevel = useHcm((s) => s.logFilter.minLevel);
  const setFilter = useHcm((s) => s.setLogFilter);
  const announce = useHcm((s) => s.announce);
  const notify = useNotify();
  const notifyError = useNotifyError();
  const [saving, setSaving] = useState(false);
  if (level === null && !desktop) return null;

  const change = async (next: LogLevel) => {
    if (next === level) return;
    setSaving(true);
    try {
      await hcm.setLogLevel(next);
      setLevel(next);
      // Lines the agent now writes would be hidden by a stricter view: show them.
      if (RANK[next] < RANK[minLevel]) setFilter({ minLevel: next });
      const label = AGENT_LEVELS.find((l) => l.value === next)!.label;
      announce(`The agent now records: ${label}.`);
      notify('success', 'Log level changed', `The agent now records: ${label}. It applies at once, until the agent restarts.`);
    } catch (err) {
      notifyError('Could not change the log level', err);
    } finally {
      setSaving(false);
    }
  };
  const openFolder = async () => {
    try {
      await hcm.openLogFolder();
    } catch (err) {
      notifyError('Could not open the log folder', err);
    }
  };
  return (
    <div className={styles.agent} role="group" aria-label="The agent's logging" data-testid="agent-logging">
      {level !== null && (
        <Field label="The agent records">
          <Dropdown
            value={AGENT_LEVELS.find((l) => l.value === level)?.label ?? level}
            selectedOptions={[level]}
            onOptionSelect={(_, data) => void change(data.optionValue as LogLevel)}
            disabled={lost || saving}
            data-testid="agent-log-level"
          >
            {AGENT_LEVELS.map((l) => (
              <Option key={l.value} value={l.value}>
                {l.label}
              </Option>
            ))}
          </Dropdown>
        </Field>
      )}
      {level !== null && (
        <Text size={200} className={styles.agentHint}>
          Changes what the agent writes from now on, here and in its log files, until it restarts.
        </Text>
      )}
      {desktop && (
        <Button icon={<FolderOpen20Regular />} onClick={() => void openFolder()} disabledFocusable={lost} data-testid="open-log-folder">
          Open log folder
        </Button>
      )}
    </div>
  );
}

/** Live log lines of the host, filterable by level, connection and text, and copyable. */
export function LogsView() {
  const styles = useStyles();
  const logs = useHcm((s) => s.logs);
  const connections = useHcm((s) => s.connections);
  const notify = useNotify();
  const notifyError = useNotifyError();
  // The filter lives in the store: "View logs" elsewhere opens this view already filtered.
  const filter = useHcm((s) => s.logFilter);
  const setFilter = useHcm((s) => s.setLogFilter);
  const [follow, setFollow] = useState(true);
  const listRef = useRef<HTMLOListElement>(null);
  const shown = useMemo(() => filterLogs(logs, filter), [logs, filter]);

  useEffect(() => {
    const el = listRef.current;
    if (follow && el) el.scrollTop = el.scrollHeight;
  }, [shown, follow]);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(logsAsText(shown));
      notify('success', `Copied ${shown.length} line${shown.length === 1 ? '' : 's'}`);
    } catch (err) {
      notifyError('Could not copy', err);
    }
  };

  const levelLabel = LEVELS.find((l) => l.value === filter.minLevel)!.label;
  const nameOf = (id: string) => {
    const c = connections.find((x) => x.id === id);
    return c ? `${c.name}${c.demo ? ' (demo)' : ''}` : id;
  };
  const connectionLabel = filter.connections.length === 0 ? 'All connections' : filter.connections.map(nameOf).join(', ');
  // Lines may be about connections removed since; they stay choosable while the filter names them.
  const choices = [...new Set([...connections.map((c) => c.id), ...filter.connections])];
  return (
    <div className={styles.root}>
      <AgentLogging />
      <div className={styles.toolbar} role="toolbar" aria-label="Log filters">
        <Field label="Search" className={styles.search}>
          <SearchBox
            value={filter.text}
            onChange={(_, data) => setFilter({ text: data.value })}
            placeholder="Text in the message"
            data-testid="log-search"
          />
        </Field>
        <Field label="Show">
          <Dropdown
            value={levelLabel}
            selectedOptions={[filter.minLevel]}
            onOptionSelect={(_, data) => setFilter({ minLevel: data.optionValue as LogLevel })}
            data-testid="log-level"
          >
            {LEVELS.map((l) => (
              <Option key={l.value} value={l.value}>
                {l.label}
              </Option>
            ))}
          </Dropdown>
        </Field>
        <Field label="Connection">
          <Dropdown
            multiselect
            value={connectionLabel}
            selectedOptions={filter.connections.length === 0 ? [ALL] : [...filter.connections]}
            onOptionSelect={(_, data) =>
              setFilter({
                // "All connections" clears the others; choosing a connection leaves "All".
                connections: data.optionValue === ALL ? [] : data.selectedOptions.filter((o) => o !== ALL),
              })
            }
            data-testid="log-connections"
          >
            <Option value={ALL}>All connections</Option>
            {choices.map((id) => (
              <Option key={id} value={id}>
                {nameOf(id)}
              </Option>
            ))}
          </Dropdown>
        </Field>
        <Switch label="Follow new lines" checked={follow} onChange={(_, data) => setFollow(data.checked)} />
        <Button icon={<Copy20Regular />} onClick={() => void copy()} disabled={shown.length === 0}>
          Copy shown lines
        </Button>
      </div>
      {/* A focusable region so keyboard users can scroll it; not a live region, which would read every line aloud. */}
      <ol ref={listRef} className={styles.lines} tabIndex={0} aria-label="Log lines" data-testid="log-lines">
        {shown.map((e) => (
          <li key={e.seq} className={styles.line} data-level={e.level}>
            <time className={styles.time} dateTime={e.time}>
              {formatLogTime(e.time)}
            </time>
            <span className={mergeClasses(styles.level, styles[e.level])}>{e.level}</span>
            {e.connection && <span className={styles.connection}>[{e.connection}]</span>}
            <span className={styles.message}>{e.message}</span>
          </li>
        ))}
      </ol>
      <Text className={styles.footer} size={200} data-testid="log-count">
        {shown.length === logs.length ? `${logs.length} lines` : `${shown.length} of ${logs.length} lines shown`}
      </Text>
    </div>
  );
}
