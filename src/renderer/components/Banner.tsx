import {
  Button,
  MessageBar,
  MessageBarActions,
  MessageBarBody,
  MessageBarTitle,
  makeStyles,
  mergeClasses,
} from '@fluentui/react-components';
import { Dismiss20Regular } from '@fluentui/react-icons';
import type { ReactNode } from 'react';
import { codeOf, errorHeading, messageOf } from '../errors.js';
import { forPeople } from '../messages.js';

const useStyles = makeStyles({
  // Fluent's MessageBar keeps text on one line (white-space: nowrap) and sizes its grid row before
  // long words wrap; messages here quote hosts, addresses and relay errors, so they must wrap
  // anywhere and the box must grow with them, never push the panel sideways or spill downwards.
  // In a column that is too short (a drawer, the window at high zoom) a flex item shrinks down to
  // its min-height, which MessageBar sets to 36px, and a grid whose height is fixed keeps its
  // rows at their items' min-height: the text then spilled onto what follows.
  root: {
    flexShrink: 0,
    minHeight: 'auto',
    whiteSpace: 'normal',
    gridTemplateRows: 'auto',
    gridTemplateColumns: 'auto minmax(0, 1fr) auto',
    minWidth: 0,
    maxWidth: '100%',
  },
  body: { overflowWrap: 'anywhere', minWidth: 0 },
});

export interface BannerProps {
  intent: 'info' | 'success' | 'warning' | 'error';
  title?: ReactNode;
  children?: ReactNode;
  className?: string;
  role?: string;
  testId?: string;
  /** Buttons under the message (e.g. "Restart to update"). */
  actions?: ReactNode;
  /** Shows a close button in the corner; `dismissLabel` is its accessible name. */
  onDismiss?: () => void;
  dismissLabel?: string;
}

/** A message in a box that wraps inside it, whatever the width of the panel and the length of the words. */
export function Banner({ intent, title, children, className, role, testId, actions, onDismiss, dismissLabel }: BannerProps) {
  const styles = useStyles();
  return (
    <MessageBar
      intent={intent}
      layout="multiline"
      className={mergeClasses(styles.root, className)}
      data-testid={testId}
      {...(role ? { role } : {})}
    >
      <MessageBarBody className={styles.body}>
        {title && <MessageBarTitle>{title}</MessageBarTitle>}
        {children}
      </MessageBarBody>
      {(actions || onDismiss) && (
        <MessageBarActions
          containerAction={
            onDismiss ? (
              <Button appearance="transparent" aria-label={dismissLabel ?? 'Dismiss'} icon={<Dismiss20Regular />} onClick={onDismiss} />
            ) : undefined
          }
        >
          {actions}
        </MessageBarActions>
      )}
    </MessageBar>
  );
}

/**
 * A refused action in a dialog or panel: the heading is the title of the error's code when the
 * host gave one (ERROR_TITLES), else `title`; the host's message is the body.
 */
export function ErrorBanner({ error, title, className, testId }: { error: unknown; title: string; className?: string; testId?: string }) {
  return (
    <Banner intent="error" role="alert" title={errorHeading(error, title)} className={className} testId={testId}>
      <span data-error-code={codeOf(error) ?? undefined}>{forPeople(messageOf(error))}</span>
    </Banner>
  );
}
