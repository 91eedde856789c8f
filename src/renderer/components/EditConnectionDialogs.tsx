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
import type { ConnectionDetails, ConnectionSummary } from '../../shared/api.js';
import { endpointProblem } from '../endpoint-input.js';
import { forPeople } from '../messages.js';
import { useHcm } from '../state/use-hcm.js';
import { type ValidationView, useConnectionStringValidation } from '../use-validation.js';
import { Banner, ErrorBanner } from './Banner.js';
import { ConnectionStringField, type FieldVerdict, describeValidation } from './ConnectionStringField.js';

/** Changing a connection in place (issue 12, item 8): a new connection string (key rotation by hand), a new hand-set endpoint. */

const useStyles = makeStyles({
  // As in Add: one column that may shrink below its longest word, so nothing widens the dialog.
  content: { display: 'grid', gridTemplateColumns: 'minmax(0, 1fr)', gap: tokens.spacingVerticalL, minWidth: 0 },
  wrap: { overflowWrap: 'anywhere', minWidth: 0 },
  mono: { fontFamily: tokens.fontFamilyMonospace },
});

type Target = Pick<ConnectionSummary, 'id' | 'name' | 'namespace' | 'endpoint'>;

interface ReplaceProps {
  open: boolean;
  connection: Target;
  /** The rule in use now, to say what is being replaced. */
  keyName: string | null;
  onClose: () => void;
  onReplaced: (details: ConnectionDetails) => void;
}

/**
 * "Replace connection string…": the same Hybrid Connection's new string (after a key rotation, or a
 * Listen rule instead of the one in use), with the checks of Add. Unmounted when closed, so the
 * pasted secret does not linger.
 */
export function ReplaceConnectionStringDialog({ open, ...rest }: ReplaceProps) {
  return (
    <Dialog open={open} onOpenChange={(_, data) => !data.open && rest.onClose()} modalType="modal">
      {open ? <ReplaceForm {...rest} /> : <DialogSurface />}
    </Dialog>
  );
}

/** Add's verdict, except that this connection being added already is the point, and a string for another one is not. */
export function describeReplacement(v: ValidationView, target: Pick<Target, 'id'>): FieldVerdict {
  if (v.state === 'done' && v.result.ok) {
    if (v.result.id !== target.id) {
      return {
        state: 'error',
        message: `This connection string is for ${v.result.id}, not ${target.id}: add it as a new connection instead.`,
      };
    }
    return {
      state: 'success',
      message: `Valid connection string for ${v.result.name}${v.result.keyName ? ` (rule ${v.result.keyName})` : ''}.`,
    };
  }
  return describeValidation(v);
}

function ReplaceForm({ connection, keyName, onClose, onReplaced }: Omit<ReplaceProps, 'open'>) {
  const styles = useStyles();
  const hcm = useHcm((s) => s.hcm);
  const [text, setText] = useState('');
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<unknown>(null);
  const validation = useConnectionStringValidation(hcm, text);
  const verdict = describeReplacement(validation, connection);
  const valid = validation.state === 'done' && validation.result.ok ? validation.result : null;
  const canSave = verdict.state === 'success' && !saving;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!canSave) return;
    setSaving(true);
    setSaveError(null);
    try {
      onReplaced(await hcm.replaceConnectionString(connection.id, text.trim()));
    } catch (err) {
      setSaveError(err);
      setSaving(false);
    }
  };

  return (
    <DialogSurface aria-describedby="replace-intro">
      <form onSubmit={(e) => void submit(e)} noValidate>
        <DialogBody>
          <DialogTitle>Replace the connection string of {connection.name}</DialogTitle>
          <DialogContent className={styles.content}>
            <Body1 id="replace-intro" className={styles.wrap}>
              Paste the new connection string of {connection.name} in {connection.namespace}, for example after its key was rotated in
              Azure. It gets the checks of Add as you type; {keyName ? `the key of ${keyName}` : 'the one'} in use now stays until you
              choose Replace, and then the connection reconnects with the new one.
            </Body1>
            <ConnectionStringField
              label="New connection string"
              value={text}
              onChange={setText}
              validation={validation}
              verdict={verdict}
            />
            {valid?.id === connection.id &&
              valid.warnings.map((w) => (
                <Banner key={w} intent="warning">
                  {forPeople(w)}
                </Banner>
              ))}
            {saveError !== null && <ErrorBanner error={saveError} title="Not replaced" />}
          </DialogContent>
          <DialogActions>
            <Button appearance="secondary" onClick={onClose}>
              Cancel
            </Button>
            <Button appearance="primary" type="submit" disabledFocusable={!canSave} icon={saving ? <Spinner size="tiny" /> : undefined}>
              {saving ? 'Replacing…' : 'Replace'}
            </Button>
          </DialogActions>
        </DialogBody>
      </form>
    </DialogSurface>
  );
}

interface EndpointProps {
  open: boolean;
  connection: Target;
  onClose: () => void;
  onSaved: (details: ConnectionDetails) => void;
}

/** "Edit endpoint…" for an endpoint set by hand (one from the Hybrid Connection's metadata is changed in Azure). */
export function EditEndpointDialog({ open, ...rest }: EndpointProps) {
  return (
    <Dialog open={open} onOpenChange={(_, data) => !data.open && rest.onClose()} modalType="modal">
      {open ? <EndpointForm {...rest} /> : <DialogSurface />}
    </Dialog>
  );
}

function EndpointForm({ connection, onClose, onSaved }: Omit<EndpointProps, 'open'>) {
  const styles = useStyles();
  const hcm = useHcm((s) => s.hcm);
  const [value, setValue] = useState(connection.endpoint);
  const [touched, setTouched] = useState(false);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<unknown>(null);
  const problem = endpointProblem(value);
  const unchanged = value.trim() === connection.endpoint;
  const canSave = problem === null && !unchanged && !saving;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!canSave) return;
    setSaving(true);
    setSaveError(null);
    try {
      onSaved(await hcm.setEndpoint(connection.id, value.trim()));
    } catch (err) {
      setSaveError(err);
      setSaving(false);
    }
  };

  const showProblem = (touched || value !== connection.endpoint) && problem !== null;
  return (
    <DialogSurface aria-describedby="endpoint-intro">
      <form onSubmit={(e) => void submit(e)} noValidate>
        <DialogBody>
          <DialogTitle>Edit the endpoint of {connection.name}</DialogTitle>
          <DialogContent className={styles.content}>
            <Body1 id="endpoint-intro" className={styles.wrap}>
              The host and port this machine connects to for each connection an app makes through {connection.name}. It was set by hand when
              the connection was added. New connections use the new endpoint; open ones keep theirs.
            </Body1>
            <Field
              label="Endpoint (host:port)"
              required
              className={styles.wrap}
              validationState={showProblem ? 'error' : 'none'}
              validationMessage={showProblem ? { children: problem, className: styles.wrap } : undefined}
              hint={`Now: ${connection.endpoint}`}
            >
              <Input
                className={styles.mono}
                value={value}
                onChange={(_, data) => setValue(data.value)}
                onBlur={() => setTouched(true)}
                spellCheck={false}
                autoFocus
                data-testid="endpoint"
              />
            </Field>
            {saveError !== null && <ErrorBanner error={saveError} title="Not changed" />}
          </DialogContent>
          <DialogActions>
            <Button appearance="secondary" onClick={onClose}>
              Cancel
            </Button>
            <Button appearance="primary" type="submit" disabledFocusable={!canSave} icon={saving ? <Spinner size="tiny" /> : undefined}>
              {saving ? 'Saving…' : 'Save'}
            </Button>
          </DialogActions>
        </DialogBody>
      </form>
    </DialogSurface>
  );
}
