import { Button, MessageBar, MessageBarBody, Spinner, Text, makeStyles, tokens, useRestoreFocusTarget } from '@fluentui/react-components';
import { Add20Regular } from '@fluentui/react-icons';
import { useMemo } from 'react';
import { useHcm } from '../state/use-hcm.js';
import { useNarrow } from '../theme.js';
import { ConnectionCards } from './ConnectionCards.js';
import { ConnectionsTable } from './ConnectionsTable.js';
import { EmptyState } from './EmptyState.js';

const useStyles = makeStyles({
  root: { display: 'grid', gap: tokens.spacingVerticalL, alignContent: 'start' },
  toolbar: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', justifyContent: 'space-between', gap: tokens.spacingHorizontalM },
  count: { color: tokens.colorNeutralForeground3 },
});

export function ConnectionsView({ onAdd }: { onAdd: () => void }) {
  const styles = useStyles();
  const connections = useHcm((s) => s.connections);
  const loaded = useHcm((s) => s.connectionsLoaded);
  const loadError = useHcm((s) => s.loadError);
  const select = useHcm((s) => s.select);
  const narrow = useNarrow(900);
  // Dialogs and drawers give the focus back to the control marked as their restore target.
  const restoreFocus = useRestoreFocusTarget();
  const sorted = useMemo(
    () => [...connections].sort((a, b) => a.name.localeCompare(b.name) || a.namespace.localeCompare(b.namespace)),
    [connections],
  );

  if (loadError) {
    return (
      <MessageBar intent="error">
        <MessageBarBody>The connections could not be read: {loadError}</MessageBarBody>
      </MessageBar>
    );
  }
  if (!loaded) return <Spinner label="Loading connections…" />;
  if (sorted.length === 0) return <EmptyState onAdd={onAdd} />;
  return (
    <div className={styles.root}>
      <div className={styles.toolbar}>
        <Button appearance="primary" icon={<Add20Regular />} onClick={onAdd} {...restoreFocus} data-add-connection>
          Add connection
        </Button>
        <Text className={styles.count}>
          {sorted.length} connection{sorted.length === 1 ? '' : 's'} · updates live
        </Text>
      </div>
      {narrow ? <ConnectionCards connections={sorted} onOpen={select} /> : <ConnectionsTable connections={sorted} onOpen={select} />}
    </div>
  );
}
