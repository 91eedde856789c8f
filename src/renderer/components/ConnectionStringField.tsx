import { Button, Field, Input, Spinner, makeStyles, tokens } from '@fluentui/react-components';
import { Eye20Regular, EyeOff20Regular } from '@fluentui/react-icons';
import { Fragment, useState } from 'react';
import type { ValidationResult } from '../../shared/api.js';
import { forPeople, hideSecrets } from '../messages.js';
import type { ValidationView } from '../use-validation.js';

const useStyles = makeStyles({
  wrap: { overflowWrap: 'anywhere', minWidth: 0 },
  secret: { fontFamily: tokens.fontFamilyMonospace },
});

/** The shape of a connection string, in pieces that may break onto the next line after each ";". */
const EXAMPLE = ['Endpoint=sb://<namespace>.servicebus.windows.net/;', 'SharedAccessKeyName=…;', 'SharedAccessKey=…;', 'EntityPath=…'];

export interface FieldVerdict {
  state: 'none' | 'error' | 'success';
  message: string | undefined;
}

/**
 * What the checks of a connection string said, for the field under it. A rule that cannot listen
 * ('rights') comes with the words to show as they are ("This policy can only send: copy the
 * defaultListener connection string instead …"); the relay's own refusals are quoted after a lead.
 */
export function describeValidation(v: ValidationView): FieldVerdict {
  switch (v.state) {
    case 'empty':
      return { state: 'none', message: undefined };
    case 'checking':
      return { state: 'none', message: 'Checking…' };
    case 'failed':
      return { state: 'error', message: `Could not check it: ${forPeople(v.message)}` };
    case 'done':
      if (!v.result.ok) return { state: 'error', message: refusal(v.result) };
      if (v.result.alreadyAdded) return { state: 'error', message: `${v.result.name} in ${v.result.namespace} is already added.` };
      return { state: 'success', message: 'Valid connection string.' };
  }
}

function refusal(result: Extract<ValidationResult, { ok: false }>): string {
  switch (result.stage) {
    case 'parse':
    case 'rights':
      return forPeople(result.error);
    default:
      return `The relay did not accept it: ${hideSecrets(result.error)}`;
  }
}

interface Props {
  label: string;
  value: string;
  onChange: (value: string) => void;
  validation: ValidationView;
  verdict: FieldVerdict;
}

/** A masked connection string field with a show toggle, checked as typed; the example shape as the hint while empty. */
export function ConnectionStringField({ label, value, onChange, validation, verdict }: Props) {
  const styles = useStyles();
  const [shown, setShown] = useState(false);
  return (
    <Field
      label={label}
      required
      className={styles.wrap}
      validationState={verdict.state}
      validationMessage={verdict.message ? { children: verdict.message, className: styles.wrap } : undefined}
      validationMessageIcon={verdict.state === 'none' && validation.state === 'checking' ? <Spinner size="extra-tiny" /> : undefined}
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
        value={value}
        onChange={(_, data) => onChange(data.value)}
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
  );
}
