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
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { type FormEvent, useState } from 'react';
import type { ConnectionDetails, ValidationResult } from '../../shared/api.js';
import { endpointProblem } from '../endpoint-input.js';
import { forPeople } from '../messages.js';
import { useHcm } from '../state/use-hcm.js';
import { useConnectionStringValidation } from '../use-validation.js';
import { Banner } from './Banner.js';
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
});

interface Props {
  open: boolean;
  onClose: () => void;
  onAdded: (details: ConnectionDetails) => void;
}

/** Add by connection string. The dialog is unmounted when closed, so the pasted secret does not linger in memory. */
export function AddConnectionDialog({ open, onClose, onAdded }: Props) {
  return (
    <Dialog open={open} onOpenChange={(_, data) => !data.open && onClose()} modalType="modal">
      {open ? <AddConnectionForm onClose={onClose} onAdded={onAdded} /> : <DialogSurface />}
    </Dialog>
  );
}

function AddConnectionForm({ onClose, onAdded }: Omit<Props, 'open'>) {
  const styles = useStyles();
  const hcm = useHcm((s) => s.hcm);
  const [text, setText] = useState('');
  const [endpoint, setEndpoint] = useState('');
  const [endpointTouched, setEndpointTouched] = useState(false);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const validation = useConnectionStringValidation(hcm, text);

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
      setSaveError((err as Error).message);
      setSaving(false);
    }
  };

  return (
    <DialogSurface aria-describedby={undefined}>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <DialogBody>
          <DialogTitle>Add a Hybrid Connection</DialogTitle>
          <DialogContent className={styles.content}>
            <Body1>
              Paste the connection string of a shared access policy with Listen rights. It is checked as you type and nothing is saved until
              you choose Add.
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
            {saveError && (
              <Banner intent="error" role="alert" title="Not added">
                {forPeople(saveError)}
              </Banner>
            )}
          </DialogContent>
          <DialogActions>
            <Button appearance="secondary" onClick={onClose}>
              Cancel
            </Button>
            <Button appearance="primary" type="submit" disabledFocusable={!canSave} icon={saving ? <Spinner size="tiny" /> : undefined}>
              {saving ? 'Adding…' : 'Add'}
            </Button>
          </DialogActions>
        </DialogBody>
      </form>
    </DialogSurface>
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
