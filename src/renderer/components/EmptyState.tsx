import { Body1, Button, Caption1, Spinner, Subtitle1, makeStyles, tokens, useRestoreFocusTarget } from '@fluentui/react-components';
import { Add20Regular, Beaker20Regular, PlugConnected48Regular } from '@fluentui/react-icons';
import { useState } from 'react';
import { detailsLinkSelector, focusSoon } from '../focus.js';
import { useHcm } from '../state/use-hcm.js';
import { useNotifyError } from './notify.js';

const useStyles = makeStyles({
  root: {
    display: 'flex',
    flexDirection: 'column',
    alignItems: 'center',
    textAlign: 'center',
    gap: tokens.spacingVerticalM,
    padding: `${tokens.spacingVerticalXXXL} ${tokens.spacingHorizontalL}`,
    maxWidth: '42rem',
    margin: '0 auto',
  },
  icon: { color: tokens.colorBrandForeground1 },
  steps: { textAlign: 'start', margin: 0, paddingInlineStart: tokens.spacingHorizontalXL, display: 'grid', gap: tokens.spacingVerticalXS },
  code: { fontFamily: tokens.fontFamilyMonospace },
  choices: { display: 'flex', flexWrap: 'wrap', justifyContent: 'center', gap: tokens.spacingHorizontalM },
  demoHint: { color: tokens.colorNeutralForeground2, maxWidth: '34rem' },
});

/** What a first-time admin sees: where to find a connection string and what to do with it. */
export function EmptyState({ onAdd }: { onAdd: () => void }) {
  const styles = useStyles();
  const restoreFocus = useRestoreFocusTarget();
  const hcm = useHcm((s) => s.hcm);
  const lost = useHcm((s) => s.link === 'lost');
  const notifyError = useNotifyError();
  const [starting, setStarting] = useState(false);

  const tryDemo = async () => {
    setStarting(true);
    try {
      const demo = await hcm.startDemo();
      // This button goes away with the empty state; the demo's row takes the focus.
      focusSoon(detailsLinkSelector(demo.id));
    } catch (err) {
      notifyError('Could not start the demo', err);
      setStarting(false);
    }
  };
  return (
    <section className={styles.root} aria-labelledby="empty-title" data-testid="empty-state">
      <PlugConnected48Regular className={styles.icon} aria-hidden />
      <Subtitle1 as="h2" id="empty-title">
        No Hybrid Connections yet
      </Subtitle1>
      <Body1>This machine relays traffic for the Hybrid Connections you add here. To add one:</Body1>
      <ol className={styles.steps}>
        <li>
          <Body1>
            In the Azure portal, open your Relay namespace, then <strong>Hybrid Connections</strong> and the connection your app uses.
          </Body1>
        </li>
        <li>
          <Body1>
            Under <strong>Shared access policies</strong>, choose a policy with <strong>Listen</strong> rights (often{' '}
            <span className={styles.code}>defaultListener</span>) and copy its primary connection string.
          </Body1>
        </li>
        <li>
          <Body1>
            Choose <strong>Add connection</strong> and paste it. The endpoint is read from the Hybrid Connection.
          </Body1>
        </li>
      </ol>
      <div className={styles.choices}>
        <Button appearance="primary" icon={<Add20Regular />} onClick={onAdd} disabledFocusable={lost} {...restoreFocus} data-add-connection>
          Add connection
        </Button>
        <Button
          icon={starting ? <Spinner size="tiny" /> : <Beaker20Regular />}
          onClick={() => void tryDemo()}
          disabledFocusable={starting || lost}
          aria-describedby="demo-hint"
          data-testid="try-demo"
        >
          {starting ? 'Starting the demo…' : 'Try it with a local relay'}
        </Button>
      </div>
      <Caption1 id="demo-hint" className={styles.demoHint}>
        Try it first: a local relay on this machine with one Hybrid Connection to a built-in echo service. No Azure account needed; nothing
        leaves this machine.
      </Caption1>
      <Caption1>
        From a terminal: <span className={styles.code}>hcm add "&lt;connection string&gt;"</span>, or{' '}
        <span className={styles.code}>hcm demo</span> to try it
      </Caption1>
    </section>
  );
}
