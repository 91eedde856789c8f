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
import { Eye20Regular, EyeOff20Regular } from '@fluentui/react-icons';
import { type FormEvent, Fragment, useState } from 'react';
import type { ConnectionDetails, ValidationResult } from '../../shared/api.js';
import { endpointProblem } from '../endpoint-input.js';
import { forPeople, hideSecrets } from '../messages.js';
import { useHcm } from '../state/use-hcm.js';
import { type ValidationView, useConnectionStringValidation } from '../use-validation.js';
import { Banner } from './Banner.js';

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
  secret: { fontFamily: tokens.fontFamilyMonospace },
});

/** The shape of a connection string, in pieces that may break onto the next line after each ";". */
const EXAMPLE = ['Endpoint=sb://<namespace>.servicebus.windows.net/;', 'SharedAccessKeyName=…;', 'SharedAccessKey=…;', 'EntityPath=…'];

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
  const [shown, setShown] = useState(false);
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

  const field = describeValidation(validation);
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
            <Field
              label="Connection string"
              required
              className={styles.wrap}
              validationState={field.state}
              validationMessage={field.message ? { children: field.message, className: styles.wrap } : undefined}
              validationMessageIcon={field.state === 'none' && validation.state === 'checking' ? <Spinner size="extra-tiny" /> : undefined}
              hint={
                validation.state === 'empty'
                  ? {
                      children: EXAMPLE.map((part, i) => (
                        <Fragment key={part}>
                          {i > 0 && <wbr />}
                          {part}
                        </Fragment>
                      )),
                      className: styles.wrap,
                    }
                  : undefined
              }
            >
              <Input
                className={styles.secret}
                type={shown ? 'text' : 'password'}
                value={text}
                onChange={(_, data) => setText(data.value)}
                autoComplete="off"
                spellCheck={false}
                autoFocus
                data-testid="connection-string"
                contentAfter={
                  <Button
                    appearance="transparent"
                    size="small"
                    icon={shown ? <EyeOff20Regular /> : <Eye20Regular />}
                    aria-label={shown ? 'Hide connection string' : 'Show connection string'}
                    aria-pressed={shown}
                    onClick={() => setShown((v) => !v)}
                  />
                }
              />
            </Field>
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

function describeValidation(v: ValidationView): { state: 'none' | 'error' | 'success'; message: string | undefined } {
  switch (v.state) {
    case 'empty':
      return { state: 'none', message: undefined };
    case 'checking':
      return { state: 'none', message: 'Checking…' };
    case 'failed':
      return { state: 'error', message: `Could not check it: ${forPeople(v.message)}` };
    case 'done':
      if (!v.result.ok) {
        return {
          state: 'error',
          message: v.result.stage === 'parse' ? forPeople(v.result.error) : `The relay did not accept it: ${hideSecrets(v.result.error)}`,
        };
      }
      if (v.result.alreadyAdded) return { state: 'error', message: `${v.result.name} in ${v.result.namespace} is already added.` };
      return { state: 'success', message: 'Valid connection string.' };
  }
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
