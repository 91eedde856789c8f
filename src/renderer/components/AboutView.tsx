import { Button, Spinner, Subtitle2, makeStyles, tokens } from '@fluentui/react-components';
import { ArrowDownload20Regular, ArrowSync20Regular } from '@fluentui/react-icons';
import type { AppInfo, UpdateState } from '../../shared/api.js';
import { NetworkSection } from './NetworkSection.js';
import { useHcm } from '../state/use-hcm.js';
import { describeUpdate, isSelfUpdating } from '../updates.js';
import { Banner } from './Banner.js';
import { FactList } from './FactList.js';
import { useNotifyError } from './notify.js';
import { UpdateCommand } from './UpdateBanner.js';

const useStyles = makeStyles({
  root: { display: 'grid', gap: tokens.spacingVerticalXL, maxWidth: '48rem', alignContent: 'start' },
  section: { display: 'grid', gap: tokens.spacingVerticalM },
  actions: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS },
  mono: { fontFamily: tokens.fontFamilyMonospace },
  command: { marginTop: tokens.spacingVerticalXS },
});

const HOST_NAMES = { electron: 'Desktop app', browser: 'Browser (hcm ui)', agent: 'Agent (hcm run)' } as const;

/** Version, where files live, and updates. */
export function AboutView() {
  const styles = useStyles();
  const info = useHcm((s) => s.appInfo);
  const update = useHcm((s) => s.update);
  const setUpdate = useHcm((s) => s.setUpdate);
  const hcm = useHcm((s) => s.hcm);
  const notifyError = useNotifyError();
  if (!info) return <Spinner label="Loading…" />;

  const check = async () => {
    try {
      setUpdate(await hcm.checkForUpdates());
    } catch (err) {
      notifyError('Could not check for updates', err);
    }
  };
  const install = async () => {
    try {
      await hcm.installUpdate();
    } catch (err) {
      notifyError('Could not install the update', err);
    }
  };
  return (
    <div className={styles.root}>
      <section className={styles.section} aria-labelledby="about-title">
        <Subtitle2 as="h2" id="about-title">
          This installation
        </Subtitle2>
        <FactList
          label="This installation"
          facts={[
            ...(info.hostname ? ([['Machine', info.hostname]] as Array<[string, string]>) : []),
            ['Version', info.version],
            ['Running as', HOST_NAMES[info.host]],
            ['Platform', info.platform],
            ['Settings folder', <span className={styles.mono}>{info.configDir}</span>],
            ['Log folder', <span className={styles.mono}>{info.logDir}</span>],
          ]}
        />
      </section>
      <section className={styles.section} aria-labelledby="updates-title">
        <Subtitle2 as="h2" id="updates-title">
          Updates
        </Subtitle2>
        {update && <UpdateMessage update={update} host={info.host} />}
        <div className={styles.actions}>
          <Button
            icon={update?.state === 'checking' ? <Spinner size="tiny" /> : <ArrowSync20Regular />}
            onClick={() => void check()}
            disabledFocusable={update?.state === 'checking'}
            disabled={update?.state === 'unsupported'}
          >
            Check for updates
          </Button>
          {update?.state === 'ready' && (
            <Button appearance="primary" icon={<ArrowDownload20Regular />} onClick={() => void install()}>
              Restart and install {update.version}
            </Button>
          )}
        </div>
      </section>
      <NetworkSection />
    </div>
  );
}

function UpdateMessage({ update, host }: { update: UpdateState; host: AppInfo['host'] }) {
  const styles = useStyles();
  const text = describeUpdate(update, host);
  const intent = update.state === 'error' ? 'error' : update.state === 'available' || update.state === 'ready' ? 'success' : 'info';
  const command = update.state === 'available' && !isSelfUpdating(update, host) ? (update.howToUpdate?.command ?? null) : null;
  return (
    <Banner intent={intent} testId="update-state">
      {text}
      {command && (
        <div className={styles.command}>
          <UpdateCommand command={command} />
        </div>
      )}
    </Banner>
  );
}
