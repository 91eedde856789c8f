import { Button, Spinner, Subtitle2, makeStyles, tokens } from '@fluentui/react-components';
import { ArrowDownload20Regular, ArrowSync20Regular } from '@fluentui/react-icons';
import type { UpdateState } from '../../shared/api.js';
import { NetworkSection } from './NetworkSection.js';
import { formatDateTime } from '../format.js';
import { forPeople } from '../messages.js';
import { useHcm } from '../state/use-hcm.js';
import { Banner } from './Banner.js';
import { FactList } from './FactList.js';
import { useNotifyError } from './notify.js';

const useStyles = makeStyles({
  root: { display: 'grid', gap: tokens.spacingVerticalXL, maxWidth: '48rem', alignContent: 'start' },
  section: { display: 'grid', gap: tokens.spacingVerticalM },
  actions: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS },
  mono: { fontFamily: tokens.fontFamilyMonospace },
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
        {update && <UpdateMessage update={update} />}
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

function UpdateMessage({ update }: { update: UpdateState }) {
  const text = describeUpdate(update);
  const intent = update.state === 'error' ? 'error' : update.state === 'available' || update.state === 'ready' ? 'success' : 'info';
  return (
    <Banner intent={intent} testId="update-state">
      {text}
    </Banner>
  );
}

function describeUpdate(u: UpdateState): string {
  switch (u.state) {
    case 'idle':
      return `Version ${u.currentVersion}. Not checked for updates yet.`;
    case 'checking':
      return 'Checking for updates…';
    case 'up-to-date':
      return `Version ${u.currentVersion} is the latest (checked ${formatDateTime(u.checkedAt)}).`;
    case 'available':
      return `Version ${u.version} is available; it is being downloaded.`;
    case 'downloading':
      return `Downloading version ${u.version}: ${Math.round(u.percent)}%.`;
    case 'ready':
      return `Version ${u.version} is downloaded and installs when the app restarts.`;
    case 'unsupported':
      return forPeople(u.reason);
    case 'error':
      return `The update check failed: ${forPeople(u.message)}`;
  }
}
