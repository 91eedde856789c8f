import {
  Body1,
  Button,
  Caption1,
  Field,
  Input,
  Link,
  Radio,
  RadioGroup,
  Select,
  Spinner,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { Open16Regular, PersonAccounts20Regular } from '@fluentui/react-icons';
import { type FormEvent, type RefObject, useEffect, useRef, useState } from 'react';
import type { AzureCloudName, AzureSignInStarted, AzureState } from '../../shared/api.js';
import { CLOUD_CHOICES, DEFAULT_TENANT, signInRequest } from '../azure.js';
import { useHcm } from '../state/use-hcm.js';
import { Banner, ErrorBanner } from './Banner.js';
import { CopyButton } from './CopyButton.js';

/**
 * Signing in to Azure (issue 13): the cloud, the tenant and how (a browser, or a code entered on
 * another device), then what to do while the sign-in waits. In a browser the sign-in page opens in
 * a new tab; its answer goes to the agent's own loopback address, and the `azure` event says when
 * it is done. The desktop app opens the system browser itself.
 */

const useStyles = makeStyles({
  form: { display: 'grid', gridTemplateColumns: 'minmax(0, 1fr)', gap: tokens.spacingVerticalM, minWidth: 0 },
  row: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalL },
  field: { flexGrow: 1, minWidth: '12rem' },
  wrap: { overflowWrap: 'anywhere', minWidth: 0 },
  actions: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: tokens.spacingHorizontalM },
  pending: { display: 'grid', gap: tokens.spacingVerticalM, minWidth: 0 },
  code: {
    fontFamily: tokens.fontFamilyMonospace,
    fontSize: tokens.fontSizeHero700,
    lineHeight: tokens.lineHeightHero700,
    fontWeight: tokens.fontWeightSemibold,
    letterSpacing: '0.1em',
  },
  codeLine: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: tokens.spacingHorizontalS },
  hint: { color: tokens.colorNeutralForeground3 },
  spinner: { justifyContent: 'flex-start' },
  open: { display: 'inline-flex', alignItems: 'center', gap: tokens.spacingHorizontalXXS },
});

/** A new tab opened from the click itself (browsers block tabs opened later), shown a word until the page is known. */
function openBlankTab(): Window | null {
  const tab = window.open('', '_blank');
  if (!tab) return null;
  try {
    tab.document.title = 'Signing in to Azure…';
    tab.document.body.textContent = 'Opening the Azure sign-in page…';
  } catch {
    /* a tab we cannot write to still navigates */
  }
  return tab;
}

/** Sends the tab to the sign-in page, without a way back to this page (no opener). */
function sendTab(tab: Window, url: string): void {
  tab.opener = null;
  tab.location.href = url;
}

/**
 * The form and the waiting state replace each other, and with them the control that had the focus:
 * the new one takes it when it was left nowhere, so the keyboard (and Escape) stay in the dialog.
 */
function useTakeLostFocus(ref: RefObject<HTMLElement | null>): void {
  useEffect(() => {
    const active = document.activeElement;
    if (!active || active === document.body) ref.current?.focus();
  }, [ref]);
}

/** A link that opens the sign-in page (again): a new tab in a browser, the system browser in the desktop app. */
function SignInPageLink({ url, children }: { url: string; children: string }) {
  const styles = useStyles();
  return (
    <Link href={url} target="_blank" rel="noopener noreferrer" className={styles.open} data-testid="sign-in-page-link">
      {children} <Open16Regular aria-hidden />
    </Link>
  );
}

interface Props {
  /** Shown above the form, e.g. why signing in is needed here. */
  intro?: string;
}

interface Choice {
  cloud: AzureCloudName;
  tenant: string;
  method: 'browser' | 'device-code';
}

/** The whole sign-in: the form, or what to do while a sign-in waits. */
export function AzureSignIn({ intro }: Props) {
  const azure = useHcm((s) => s.azure);
  const hcm = useHcm((s) => s.hcm);
  const desktop = useHcm((s) => s.appInfo?.host === 'electron');
  const setAzureSignIn = useHcm((s) => s.setAzureSignIn);
  const [choice, setChoice] = useState<Choice>(() => ({
    cloud: azure?.cloud ?? 'public',
    tenant: azure?.tenant || DEFAULT_TENANT,
    method: 'browser',
  }));
  const [busy, setBusy] = useState(false);
  const [blocked, setBlocked] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (!azure) return <Banner intent="info">This host cannot sign in to Azure. Use a connection string instead.</Banner>;

  const start = async () => {
    // The tab must be opened by the click itself; the page it shows is known a moment later.
    const inTab = choice.method === 'browser' && !desktop;
    const tab = inTab ? openBlankTab() : null;
    setBlocked(inTab && tab === null);
    setBusy(true);
    setError(null);
    try {
      const started = await hcm.beginAzureSignIn({ method: choice.method, ...signInRequest(azure, choice) });
      setAzureSignIn(started);
      if (tab && started.url) sendTab(tab, started.url);
      else tab?.close();
    } catch (err) {
      tab?.close();
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (azure.signingIn || busy) return <PendingSignIn azure={azure} starting={busy} blocked={blocked} />;
  return (
    <SignInForm
      azure={azure}
      intro={intro}
      choice={choice}
      onChange={(c) => setChoice({ ...choice, ...c })}
      error={error}
      onStart={start}
    />
  );
}

function SignInForm({
  azure,
  intro,
  choice,
  onChange,
  error,
  onStart,
}: {
  azure: AzureState;
  intro?: string | undefined;
  choice: Choice;
  onChange: (change: Partial<Choice>) => void;
  error: unknown;
  onStart: () => Promise<void>;
}) {
  const styles = useStyles();
  const desktop = useHcm((s) => s.appInfo?.host === 'electron');
  const button = useRef<HTMLButtonElement>(null);
  useTakeLostFocus(button);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void onStart();
  };
  const clouds = azure.cloud === 'custom' ? [{ value: 'custom' as const, label: azure.cloudLabel }, ...CLOUD_CHOICES] : CLOUD_CHOICES;
  return (
    <form className={styles.form} onSubmit={submit} noValidate data-testid="azure-sign-in">
      {intro && <Body1 className={styles.wrap}>{intro}</Body1>}
      <div className={styles.row}>
        <Field label="Cloud" className={styles.field}>
          <Select value={choice.cloud} onChange={(_, data) => onChange({ cloud: data.value as AzureCloudName })} data-testid="azure-cloud">
            {clouds.map((c) => (
              <option key={c.value} value={c.value}>
                {c.label}
              </option>
            ))}
          </Select>
        </Field>
        <Field
          label="Tenant"
          className={styles.field}
          hint={{ children: 'organizations: any work or school account. Or a tenant’s domain or ID.', className: styles.wrap }}
        >
          <Input
            value={choice.tenant}
            onChange={(_, data) => onChange({ tenant: data.value })}
            spellCheck={false}
            data-testid="azure-tenant"
          />
        </Field>
      </div>
      <Field label="Sign in with">
        <RadioGroup value={choice.method} onChange={(_, data) => onChange({ method: data.value as Choice['method'] })} layout="horizontal">
          <Radio value="browser" label={desktop ? 'Your browser' : 'A new browser tab'} />
          <Radio value="device-code" label="A code, on any device" />
        </RadioGroup>
      </Field>
      <Caption1 className={`${styles.hint} ${styles.wrap}`}>
        {choice.method === 'browser'
          ? 'The sign-in page answers to this machine’s loopback address. If you reach this page from another computer (ssh -L), sign in with a code instead.'
          : 'You get a code and a page to open on any device, for example your phone.'}{' '}
        Only what the account can read is listed; keys are fetched for the Hybrid Connections you add.
      </Caption1>
      {azure.lastError && error === null && (
        <Banner intent="warning" title="The last sign-in did not complete" testId="azure-last-error">
          {azure.lastError}
        </Banner>
      )}
      {error !== null && <ErrorBanner error={error} title="Could not start signing in" testId="azure-sign-in-error" />}
      <div className={styles.actions}>
        <Button ref={button} appearance="primary" type="submit" icon={<PersonAccounts20Regular />} data-testid="azure-sign-in-button">
          Sign in
        </Button>
        <Caption1 className={styles.hint}>Tokens: {azure.tokenStorage || 'kept in the settings folder'}</Caption1>
      </div>
    </form>
  );
}

function PendingSignIn({ azure, starting, blocked }: { azure: AzureState; starting: boolean; blocked: boolean }) {
  const styles = useStyles();
  const started = useHcm((s) => s.azureSignIn);
  const desktop = useHcm((s) => s.appInfo?.host === 'electron');
  const root = useRef<HTMLDivElement>(null);
  useTakeLostFocus(root);
  const device = started?.deviceCode;
  return (
    <div className={styles.pending} ref={root} tabIndex={-1} data-testid="azure-pending">
      {starting && !started ? (
        <Spinner className={styles.spinner} size="small" labelPosition="after" label="Starting the sign-in…" />
      ) : (
        <PendingSteps azure={azure} started={started} blocked={blocked} desktop={desktop} device={device} />
      )}
    </div>
  );
}

function PendingSteps({
  azure,
  started,
  blocked,
  desktop,
  device,
}: {
  azure: AzureState;
  started: AzureSignInStarted | null;
  blocked: boolean;
  desktop: boolean;
  device: AzureSignInStarted['deviceCode'];
}) {
  const styles = useStyles();
  return (
    <>
      <Spinner className={styles.spinner} size="small" labelPosition="after" label={`Waiting for you to sign in to ${azure.cloudLabel}…`} />
      {device ? (
        <>
          <Body1 className={styles.wrap}>
            On any device, open <SignInPageLink url={device.verificationUri}>{device.verificationUri}</SignInPageLink> and enter this code:
          </Body1>
          <div className={styles.codeLine}>
            <span className={styles.code} data-testid="azure-device-code">
              {device.userCode}
            </span>
            <CopyButton text={device.userCode} what="code" />
          </div>
          <Caption1 className={`${styles.hint} ${styles.wrap}`}>{device.message}</Caption1>
        </>
      ) : started?.url ? (
        <>
          {blocked && !desktop ? (
            <Banner intent="warning" title="The browser did not open a new tab" testId="azure-popup-blocked">
              Open the sign-in page yourself: <SignInPageLink url={started.url}>Open the sign-in page</SignInPageLink>
            </Banner>
          ) : (
            <Body1 className={styles.wrap}>
              {desktop
                ? 'Continue in your browser: the sign-in page opened there. This window updates by itself when you are done.'
                : 'Sign in on the page that opened in a new tab. This page updates by itself when you are done.'}
            </Body1>
          )}
          <Caption1 className={styles.wrap}>
            Closed it, or nothing opened? <SignInPageLink url={started.url}>Open the sign-in page again</SignInPageLink>
          </Caption1>
        </>
      ) : (
        <Body1 className={styles.wrap}>
          A sign-in started from another window (or before this page was reloaded) is waiting. Finish it there; if nobody does, it is given
          up after 10 minutes and you can start again.
        </Body1>
      )}
    </>
  );
}
