import { Button, ProgressBar, Spinner, makeStyles, mergeClasses, tokens } from '@fluentui/react-components';
import { ArrowClockwise20Regular, ChevronDown16Regular, ChevronRight16Regular } from '@fluentui/react-icons';
import { useEffect, useId, useState } from 'react';
import { DISMISSED_UPDATE_KEY, UPDATED_SEEN_KEY, recall, remember } from '../state/remembered.js';
import { useHcm } from '../state/use-hcm.js';
import { type UpdateBannerModel, bannerTitle, updateBanner, updatedNotice } from '../updates.js';
import { Banner } from './Banner.js';
import { CopyButton } from './CopyButton.js';
import { useNotifyError } from './notify.js';

const useStyles = makeStyles({
  // Never more than part of the window: in a small one (or at 200% zoom) the page under it keeps room, the banner scrolls.
  stack: { display: 'grid', gap: tokens.spacingVerticalS, flexShrink: 0, maxHeight: '30vh', overflowY: 'auto' },
  lines: { display: 'grid', gap: tokens.spacingVerticalXS, marginTop: tokens.spacingVerticalXXS, minWidth: 0 },
  command: {
    display: 'flex',
    alignItems: 'flex-start',
    gap: tokens.spacingHorizontalXS,
    minWidth: 0,
    maxWidth: '100%',
  },
  code: {
    fontFamily: tokens.fontFamilyMonospace,
    fontSize: tokens.fontSizeBase200,
    backgroundColor: tokens.colorNeutralBackground1,
    border: `1px solid ${tokens.colorNeutralStroke2}`,
    borderRadius: tokens.borderRadiusMedium,
    padding: `${tokens.spacingVerticalXXS} ${tokens.spacingHorizontalS}`,
    overflowWrap: 'anywhere',
    whiteSpace: 'pre-wrap',
    minWidth: 0,
  },
  notesToggle: { justifySelf: 'start', paddingInline: 0, minWidth: 0 },
  notes: {
    whiteSpace: 'pre-wrap',
    overflowWrap: 'anywhere',
    maxHeight: '12rem',
    overflowY: 'auto',
    margin: 0,
    padding: `${tokens.spacingVerticalXS} ${tokens.spacingHorizontalS}`,
    borderLeft: `3px solid ${tokens.colorNeutralStroke1}`,
    color: tokens.colorNeutralForeground2,
  },
  progress: { maxWidth: '24rem' },
});

/** The exact command that installs the new version here, with a copy button (also used in About). */
export function UpdateCommand({ command }: { command: string }) {
  const styles = useStyles();
  return (
    <span className={styles.command}>
      <code className={styles.code} data-testid="update-command">
        {command}
      </code>
      <CopyButton text={command} what="update command" />
    </span>
  );
}

/**
 * On every screen, under the tabs: a new version (with its release notes and how to get it), its
 * download, "Restart to update" once the desktop app has it, and "Updated to X" on the first run
 * after an update. Dismissed per version, remembered in this browser.
 */
export function UpdateBanners({ className }: { className?: string }) {
  const styles = useStyles();
  const update = useHcm((s) => s.update);
  const host = useHcm((s) => s.appInfo?.host ?? null);
  const announce = useHcm((s) => s.announce);
  const [dismissed, setDismissed] = useState(() => recall(DISMISSED_UPDATE_KEY));
  const [updated, setUpdated] = useState<{ version: string; from: string } | null>(null);

  // "Updated to X" once: remembered as shown when it first shows, and kept on this page until dismissed.
  useEffect(() => {
    const notice = updatedNotice(update, recall(UPDATED_SEEN_KEY));
    if (!notice) return;
    remember(UPDATED_SEEN_KEY, notice.version);
    setUpdated(notice);
  }, [update]);

  const model = updateBanner(update, dismissed, host);
  if (!model && !updated) return null;
  const dismiss = (m: UpdateBannerModel) => {
    remember(DISMISSED_UPDATE_KEY, m.dismissKey);
    setDismissed(m.dismissKey);
    announce(`The notice about version ${m.version} is dismissed. About › Updates still shows it.`);
  };
  return (
    <div className={mergeClasses(styles.stack, className)} data-testid="update-banners">
      {updated && (
        <Banner
          intent="success"
          testId="updated-notice"
          title={`Updated to ${updated.version}`}
          onDismiss={() => setUpdated(null)}
          dismissLabel={`Dismiss the notice about the update to ${updated.version}`}
        >
          Hybrid Connection Manager was updated from {updated.from}. Connections resume by themselves.
        </Banner>
      )}
      {model && <OfferBanner key={model.dismissKey} model={model} onDismiss={() => dismiss(model)} />}
    </div>
  );
}

function OfferBanner({ model, onDismiss }: { model: UpdateBannerModel; onDismiss: () => void }) {
  const styles = useStyles();
  const hcm = useHcm((s) => s.hcm);
  const lost = useHcm((s) => s.lostAt !== null);
  const notifyError = useNotifyError();
  const [notesOpen, setNotesOpen] = useState(false);
  const [installing, setInstalling] = useState(false);
  const notesId = useId();

  const install = async () => {
    setInstalling(true);
    try {
      await hcm.installUpdate();
    } catch (err) {
      notifyError('Could not restart to update', err);
    } finally {
      setInstalling(false);
    }
  };

  return (
    <Banner
      intent={model.kind === 'ready' ? 'success' : 'info'}
      testId="update-banner"
      title={bannerTitle(model)}
      onDismiss={onDismiss}
      dismissLabel={`Dismiss the notice about version ${model.version}`}
      actions={
        model.kind === 'ready' ? (
          <Button
            appearance="primary"
            icon={installing ? <Spinner size="tiny" /> : <ArrowClockwise20Regular />}
            onClick={() => void install()}
            disabledFocusable={installing || lost}
            data-testid="restart-to-update"
          >
            Restart to update
          </Button>
        ) : undefined
      }
    >
      <div className={styles.lines} data-update-state={model.kind} data-version={model.version}>
        {model.kind === 'available' && !model.selfUpdating && (
          <>
            <span data-testid="update-how">
              This is {model.currentVersion}. {model.description}
            </span>
            {model.command && <UpdateCommand command={model.command} />}
          </>
        )}
        {model.kind === 'downloading' && (
          <ProgressBar
            className={styles.progress}
            value={model.percent / 100}
            thickness="large"
            aria-label={`Downloading version ${model.version}`}
            aria-valuetext={`${model.percent}%`}
            data-testid="update-progress"
          />
        )}
        {model.kind === 'ready' && <span>It is downloaded and checked; the app restarts into it. Connections resume by themselves.</span>}
        {model.notes && (
          <>
            <Button
              className={styles.notesToggle}
              appearance="transparent"
              size="small"
              icon={notesOpen ? <ChevronDown16Regular /> : <ChevronRight16Regular />}
              aria-expanded={notesOpen}
              aria-controls={notesId}
              onClick={() => setNotesOpen(!notesOpen)}
              data-testid="update-notes-toggle"
            >
              Release notes
            </Button>
            {notesOpen && (
              <p id={notesId} className={styles.notes} data-testid="update-notes">
                {model.notes}
              </p>
            )}
          </>
        )}
      </div>
    </Banner>
  );
}
