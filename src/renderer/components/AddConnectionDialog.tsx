import {
  Body1,
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Field,
  Input,
  Spinner,
  Tab,
  TabList,
  makeStyles,
  mergeClasses,
  tokens,
} from '@fluentui/react-components';
import { CloudArrowDown20Regular, Key20Regular } from '@fluentui/react-icons';
import { type FormEvent, useEffect, useState } from 'react';
import { createPortal } from 'react-dom';
import type { ConnectionDetails, ValidationResult } from '../../shared/api.js';
import { endpointProblem } from '../endpoint-input.js';
import { forPeople } from '../messages.js';
import type { AddWay } from '../state/store.js';
import { useHcm } from '../state/use-hcm.js';
import { useConnectionStringValidation } from '../use-validation.js';
import { AzureWay } from './AzurePicker.js';
import { Banner, ErrorBanner } from './Banner.js';
import { ConnectionStringField, describeValidation } from './ConnectionStringField.js';

const useStyles = makeStyles({
  // One column that may shrink below its longest word: the example hint, a pasted string or an
  // error quoting an address must wrap inside the dialog, never widen it.
  content: { display: 'grid', gridTemplateColumns: 'minmax(0, 1fr)', gap: tokens.spacingVerticalL, minWidth: 0 },
  wrap: { overflowWrap: 'anywhere', minWidth: 0 },
  resolved: {
    display: 'grid',
    gridTemplateColumns: 'max-content minmax(0, 1fr)',
    columnGap: tokens.spacingHorizontalL,
    rowGap: tokens.spacingVerticalXS,
    margin: 0,
    padding: tokens.spacingVerticalM,
    borderRadius: tokens.borderRadiusMedium,
    backgroundColor: tokens.colorNeutralBackground3,
  },
  term: { color: tokens.colorNeutralForeground3 },
  value: { margin: 0, overflowWrap: 'anywhere' },
  endpoint: { fontFamily: tokens.fontFamilyMonospace, fontWeight: tokens.fontWeightSemibold },
  // The picker's table needs the room; the connection string keeps Fluent's usual width.
  wide: { maxWidth: 'min(1100px, calc(100vw - 32px))', width: '100%' },
  ways: { marginBottom: tokens.spacingVerticalS, flexWrap: 'wrap', minWidth: 0 },
  panel: { minWidth: 0 },
  // The actions row's buttons come from the way shown (a portal), laid out as its own children.
  actions: { display: 'contents' },
});

interface Props {
  open: boolean;
  onClose: () => void;
  onAdded: (details: ConnectionDetails) => void;
  /** Added through "Select with Azure": every selection went in. */
  onAddedFromAzure: (ids: string[], names: string[]) => void;
}

/**
 * Add, both ways (as Microsoft's new HCM offers them): "Select with Azure" (sign in, pick, the keys
 * are fetched) and "Use a connection string" (paste). The dialog is unmounted when closed, so a
 * pasted secret does not linger in memory.
 */
export function AddConnectionDialog({ open, onClose, ...rest }: Props) {
  return (
    <Dialog open={open} onOpenChange={(_, data) => !data.open && onClose()} modalType="modal">
      {open ? <AddDialog onClose={onClose} {...rest} /> : <DialogSurface />}
    </Dialog>
  );
}

function AddDialog({ onClose, onAdded, onAddedFromAzure }: Omit<Props, 'open'>) {
  const styles = useStyles();
  const azure = useHcm((s) => s.azure);
  const chosen = useHcm((s) => s.addWay);
  const setAddWay = useHcm((s) => s.setAddWay);
  // A host without Azure sign-in has one way; else the one chosen last, or Azure when signed in.
  const way: AddWay = !azure ? 'string' : (chosen ?? (azure.account ? 'azure' : 'string'));
  const [firstWay] = useState(way);
  const [actions, setActions] = useState<HTMLElement | null>(null);
  return (
    <DialogSurface className={mergeClasses(way === 'azure' && styles.wide)} aria-describedby={undefined}>
      <DialogBody>
        <DialogTitle>Add a Hybrid Connection</DialogTitle>
        <DialogContent className={styles.content}>
          {azure && (
            <TabList
              className={styles.ways}
              selectedValue={way}
              onTabSelect={(_, data) => setAddWay(data.value as AddWay)}
              aria-label="How to add"
              data-testid="add-ways"
            >
              <Tab value="azure" id="add-way-azure" icon={<CloudArrowDown20Regular />} aria-controls="add-way-panel">
                Select with Azure
              </Tab>
              <Tab value="string" id="add-way-string" icon={<Key20Regular />} aria-controls="add-way-panel">
                Use a connection string
              </Tab>
            </TabList>
          )}
          <div
            className={styles.panel}
            id="add-way-panel"
            {...(azure ? { role: 'tabpanel', 'aria-labelledby': `add-way-${way}` } : {})}
            data-add-way={way}
          >
            {way === 'string' ? (
              <ConnectionStringWay actions={actions} onClose={onClose} onAdded={onAdded} focusField={firstWay === 'string'} />
            ) : (
              <AzureWay actions={actions} onClose={onClose} onAdded={onAddedFromAzure} />
            )}
          </div>
        </DialogContent>
        <DialogActions>
          <div className={styles.actions} ref={setActions} />
        </DialogActions>
      </DialogBody>
    </DialogSurface>
  );
}

const STRING_FORM_ID = 'add-connection-string-form';

function ConnectionStringWay({
  actions,
  onClose,
  onAdded,
  focusField,
}: {
  actions: HTMLElement | null;
  onClose: () => void;
  onAdded: (details: ConnectionDetails) => void;
  /** On opening the dialog this way: the field takes the focus (Fluent's dialog gives it to the first tab). */
  focusField: boolean;
}) {
  const styles = useStyles();
  const hcm = useHcm((s) => s.hcm);
  const [text, setText] = useState('');
  const [endpoint, setEndpoint] = useState('');
  const [endpointTouched, setEndpointTouched] = useState(false);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<unknown>(null);
  const validation = useConnectionStringValidation(hcm, text);

  useEffect(() => {
    if (!focusField) return;
    // After the dialog's own first focus, which runs after this component's effects.
    const timer = setTimeout(() => document.querySelector<HTMLElement>('[data-testid="connection-string"]')?.focus(), 0);
    return () => clearTimeout(timer);
  }, [focusField]);

  const resolved = validation.state === 'done' && validation.result.ok ? validation.result : null;
  const needsEndpoint = resolved !== null && resolved.endpoint === null;
  const endpointError = needsEndpoint ? endpointProblem(endpoint) : null;
  const canSave = resolved !== null && !resolved.alreadyAdded && (!needsEndpoint || endpointError === null) && !saving;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (needsEndpoint) setEndpointTouched(true);
    if (!canSave) return;
    setSaving(true);
    setSaveError(null);
    try {
      const details = await hcm.addConnection({
        connectionString: text.trim(),
        ...(needsEndpoint ? { endpoint: endpoint.trim() } : {}),
      });
      onAdded(details);
    } catch (err) {
      setSaveError(err);
      setSaving(false);
    }
  };

  const buttons = (
    <>
      <Button appearance="secondary" onClick={onClose}>
        Cancel
      </Button>
      <Button
        appearance="primary"
        type="submit"
        form={STRING_FORM_ID}
        disabledFocusable={!canSave}
        icon={saving ? <Spinner size="tiny" /> : undefined}
      >
        {saving ? 'Adding…' : 'Add'}
      </Button>
    </>
  );

  return (
    <form id={STRING_FORM_ID} className={styles.content} onSubmit={(e) => void submit(e)} noValidate>
      <Body1>
        Paste the connection string of a shared access policy with Listen rights. It is checked as you type and nothing is saved until you
        choose Add.
      </Body1>
      <ConnectionStringField
        label="Connection string"
        value={text}
        onChange={setText}
        validation={validation}
        verdict={describeValidation(validation)}
      />
      {resolved && <ResolvedSummary result={resolved} />}
      {resolved?.warnings.map((w) => (
        <Banner key={w} intent="warning">
          {forPeople(w)}
        </Banner>
      ))}
      {needsEndpoint && (
        <Field
          label="Endpoint (host:port)"
          required
          className={styles.wrap}
          validationState={endpointTouched && endpointError ? 'error' : 'none'}
          validationMessage={endpointTouched && endpointError ? endpointError : undefined}
          hint={
            resolved.endpointProblem
              ? forPeople(resolved.endpointProblem)
              : 'This Hybrid Connection has no endpoint in its metadata. Enter the host and port this machine should connect to.'
          }
        >
          <Input
            value={endpoint}
            onChange={(_, data) => setEndpoint(data.value)}
            onBlur={() => setEndpointTouched(true)}
            spellCheck={false}
            data-testid="endpoint"
          />
        </Field>
      )}
      {saveError !== null && <ErrorBanner error={saveError} title="Not added" />}
      {actions && createPortal(buttons, actions)}
    </form>
  );
}

function ResolvedSummary({ result }: { result: Extract<ValidationResult, { ok: true }> }) {
  const styles = useStyles();
  return (
    <dl className={styles.resolved} aria-label="What will be added" data-testid="resolved">
      <dt className={styles.term}>Hybrid Connection</dt>
      <dd className={styles.value}>{result.name}</dd>
      <dt className={styles.term}>Namespace</dt>
      <dd className={styles.value}>{result.namespace}</dd>
      <dt className={styles.term}>Endpoint</dt>
      <dd className={`${styles.value} ${styles.endpoint}`} data-testid="resolved-endpoint">
        {result.endpoint ?? 'not set in the Hybrid Connection — enter it below'}
      </dd>
      <dt className={styles.term}>Service Bus address</dt>
      <dd className={styles.value}>{result.serviceBusAddress}</dd>
      <dt className={styles.term}>Key name</dt>
      <dd className={styles.value}>{result.keyName ?? '— (fixed token)'}</dd>
      {result.listenerCount !== null && (
        <>
          <dt className={styles.term}>Listeners online</dt>
          <dd className={styles.value}>{result.listenerCount}</dd>
        </>
      )}
    </dl>
  );
}
