import { Body1, Button, Caption1, Field, Input, Spinner, Subtitle2, makeStyles, tokens } from '@fluentui/react-components';
import { Delete20Regular, Save20Regular } from '@fluentui/react-icons';
import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import type { ProxyState } from '../../shared/api.js';
import { type ProxyForm, proxyCredentialsProblem, proxyFormOf, proxyInputOf, proxySourceText, proxyUrlProblem } from '../proxy-input.js';
import { useHcm } from '../state/use-hcm.js';
import { ErrorBanner } from './Banner.js';
import { FactList } from './FactList.js';
import { useNotify, useNotifyError } from './notify.js';

const useStyles = makeStyles({
  section: { display: 'grid', gap: tokens.spacingVerticalM, minWidth: 0 },
  form: { display: 'grid', gap: tokens.spacingVerticalM, minWidth: 0, maxWidth: '36rem' },
  row: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalL },
  half: { flexGrow: 1, flexBasis: '14rem', minWidth: 0 },
  actions: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS },
  mono: { fontFamily: tokens.fontFamilyMonospace, overflowWrap: 'anywhere' },
  hint: { color: tokens.colorNeutralForeground3 },
});

type Load = { state: 'loading' } | { state: 'done'; proxy: ProxyState } | { state: 'failed'; error: unknown };

/**
 * "Network" in About (issue 15): the outbound proxy every relay and Azure connection goes through,
 * where it comes from, and a small form to set or remove the setting. The password is sent once
 * and never shown back.
 */
export function NetworkSection() {
  const styles = useStyles();
  const hcm = useHcm((s) => s.hcm);
  const lost = useHcm((s) => s.link === 'lost');
  const notify = useNotify();
  const notifyError = useNotifyError();
  const [load, setLoad] = useState<Load>({ state: 'loading' });
  const [form, setForm] = useState<ProxyForm>(proxyFormOf(null));
  const [touched, setTouched] = useState(false);
  const [saving, setSaving] = useState<'set' | 'clear' | null>(null);
  const [saveError, setSaveError] = useState<unknown>(null);

  const show = (proxy: ProxyState) => {
    setLoad({ state: 'done', proxy });
    setForm(proxyFormOf(proxy));
    setTouched(false);
  };
  useEffect(() => {
    let current = true;
    Promise.resolve()
      .then(() => hcm.getProxy())
      .then(
        (proxy) => current && show(proxy),
        (error: unknown) => current && setLoad({ state: 'failed', error }),
      );
    return () => {
      current = false;
    };
  }, [hcm]);

  const urlProblem = proxyUrlProblem(form.url);
  const credentialsProblem = proxyCredentialsProblem(form);
  const change = (part: Partial<ProxyForm>) => setForm((f) => ({ ...f, ...part }));

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (urlProblem || credentialsProblem || saving) return;
    setSaving('set');
    setSaveError(null);
    try {
      const next = await hcm.setProxy(proxyInputOf(form));
      show(next);
      notify('success', 'Proxy saved', `In use: ${next.description}. Running connections reconnect through it.`);
    } catch (err) {
      setSaveError(err);
      // Never kept in the page longer than needed.
      change({ password: '' });
    } finally {
      setSaving(null);
    }
  };
  const clear = async () => {
    setSaving('clear');
    setSaveError(null);
    try {
      const next = await hcm.clearProxy();
      show(next);
      notify('success', 'Proxy setting removed', `In use now: ${next.description}.`);
    } catch (err) {
      notifyError('Could not remove the proxy setting', err);
    } finally {
      setSaving(null);
    }
  };

  return (
    <section className={styles.section} aria-labelledby="network-title" data-testid="network">
      <Subtitle2 as="h2" id="network-title">
        Network
      </Subtitle2>
      {load.state === 'loading' && <Spinner size="tiny" label="Reading the proxy…" labelPosition="after" />}
      {load.state === 'failed' && <ErrorBanner error={load.error} title="The proxy setting could not be read" />}
      {load.state === 'done' && (
        <>
          <FactList
            label="Proxy"
            testId="proxy-facts"
            facts={[
              ['Proxy in use', <span className={styles.mono}>{load.proxy.description}</span>],
              ['Comes from', proxySourceText(load.proxy)],
              ['The environment alone', <span className={styles.mono}>{load.proxy.environment}</span>],
              ...(load.proxy.noProxy.length
                ? ([['Not for', <span className={styles.mono}>{load.proxy.noProxy.join(', ')}</span>]] as Array<[string, ReactNode]>)
                : []),
            ]}
          />
          <form className={styles.form} onSubmit={(e) => void save(e)} noValidate aria-label="Proxy setting" data-testid="proxy-form">
            <Body1>
              Relay connections, sign-in and Azure calls go through this proxy (HTTP CONNECT). A setting here wins over HTTPS_PROXY;
              “direct” ignores HTTPS_PROXY.
            </Body1>
            <Field
              label="Proxy address"
              required
              validationState={touched && urlProblem ? 'error' : 'none'}
              validationMessage={touched && urlProblem ? urlProblem : undefined}
              hint="http://host:port, or direct"
            >
              <Input
                className={styles.mono}
                value={form.url}
                onChange={(_, data) => change({ url: data.value })}
                onBlur={() => setTouched(true)}
                placeholder="http://proxy.contoso.local:3128"
                spellCheck={false}
                data-testid="proxy-url"
              />
            </Field>
            <Field label="Not through the proxy" hint="Hosts or domains, separated by commas, e.g. .internal, 10.0.0.5">
              <Input
                className={styles.mono}
                value={form.noProxy}
                onChange={(_, data) => change({ noProxy: data.value })}
                spellCheck={false}
                data-testid="proxy-no-proxy"
              />
            </Field>
            <div className={styles.row}>
              <Field label="User name" className={styles.half} hint="Only if the proxy asks for one">
                <Input
                  value={form.username}
                  onChange={(_, data) => change({ username: data.value })}
                  autoComplete="off"
                  spellCheck={false}
                  data-testid="proxy-username"
                />
              </Field>
              <Field
                label="Password"
                className={styles.half}
                validationState={touched && credentialsProblem ? 'error' : 'none'}
                validationMessage={touched && credentialsProblem ? credentialsProblem : undefined}
                hint={touched && credentialsProblem ? undefined : 'Saved in secrets.json; never shown again'}
              >
                <Input
                  type="password"
                  value={form.password}
                  onChange={(_, data) => change({ password: data.value })}
                  autoComplete="new-password"
                  data-testid="proxy-password"
                />
              </Field>
            </div>
            {saveError !== null && <ErrorBanner error={saveError} title="Proxy not saved" testId="proxy-error" />}
            <div className={styles.actions}>
              <Button
                appearance="primary"
                type="submit"
                icon={saving === 'set' ? <Spinner size="tiny" /> : <Save20Regular />}
                disabledFocusable={saving !== null || lost}
                data-testid="proxy-save"
              >
                Save proxy
              </Button>
              {load.proxy.url !== null && (
                <Button
                  icon={saving === 'clear' ? <Spinner size="tiny" /> : <Delete20Regular />}
                  onClick={() => void clear()}
                  disabledFocusable={saving !== null || lost}
                  data-testid="proxy-clear"
                >
                  Remove the setting
                </Button>
              )}
            </div>
            {load.proxy.url !== null && (
              <Caption1 className={styles.hint}>Removing the setting uses the environment again: {load.proxy.environment}.</Caption1>
            )}
          </form>
        </>
      )}
    </section>
  );
}
