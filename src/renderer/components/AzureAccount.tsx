import {
  Button,
  Caption1,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Menu,
  MenuDivider,
  MenuGroup,
  MenuGroupHeader,
  MenuItem,
  MenuList,
  MenuPopover,
  MenuTrigger,
  Spinner,
  makeStyles,
  tokens,
  useRestoreFocusTarget,
} from '@fluentui/react-components';
import { PersonAccounts20Regular, PersonCircle20Regular, SignOut20Regular } from '@fluentui/react-icons';
import { useEffect, useRef, useState } from 'react';
import { accountLabel } from '../azure.js';
import { focusSoon } from '../focus.js';
import { useHcm } from '../state/use-hcm.js';
import { AzureSignIn } from './AzureSignIn.js';
import { useNotify, useNotifyError } from './notify.js';

const useStyles = makeStyles({
  trigger: { maxWidth: '22rem', minWidth: 0 },
  triggerText: { display: 'grid', textAlign: 'start', minWidth: 0, lineHeight: tokens.lineHeightBase200 },
  who: { overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' },
  cloud: { color: tokens.colorNeutralForeground3, fontWeight: tokens.fontWeightRegular },
  facts: {
    display: 'grid',
    gap: tokens.spacingVerticalXXS,
    padding: `${tokens.spacingVerticalXS} ${tokens.spacingHorizontalS} ${tokens.spacingVerticalS}`,
    maxWidth: '24rem',
    overflowWrap: 'anywhere',
  },
  term: { color: tokens.colorNeutralForeground3 },
  surface: { maxWidth: 'min(40rem, calc(100vw - 32px))' },
});

/**
 * The Azure account in the header: who is signed in and to which cloud, with a menu to sign out;
 * "Sign in to Azure" (a dialog with the cloud, the tenant and how) while nobody is. Hosts without
 * Azure sign-in show nothing.
 */
export function AzureAccount() {
  const styles = useStyles();
  const azure = useHcm((s) => s.azure);
  const hcm = useHcm((s) => s.hcm);
  const lost = useHcm((s) => s.link === 'lost');
  const notify = useNotify();
  const notifyError = useNotifyError();
  const restoreFocus = useRestoreFocusTarget();
  const [signingIn, setSigningIn] = useState(false);
  const [signingOut, setSigningOut] = useState(false);
  const account = azure?.account ?? null;

  // Who signed in, said once, wherever the sign-in was started (this dialog, Add, another window).
  const seen = useRef<string | null | undefined>(undefined);
  const dialogOpen = useRef(false);
  dialogOpen.current = signingIn;
  useEffect(() => {
    if (!azure) return;
    const who = azure.account?.username ?? null;
    if (seen.current === null && who) {
      notify('success', `Signed in to Azure as ${who}`, azure.cloudLabel);
      // The dialog and its opener go away with the sign-in; the account's menu button takes the focus.
      if (dialogOpen.current) focusSoon('[data-testid="azure-account"]');
    }
    seen.current = who;
    if (who) setSigningIn(false);
  }, [azure, notify]);

  if (!azure) return null;

  const signOut = async () => {
    setSigningOut(true);
    try {
      await hcm.signOutOfAzure();
      notify(
        'success',
        'Signed out of Azure',
        'The tokens were removed from this machine. Connections added through Azure keep working; a key rotated in Azure is no longer fetched by itself.',
      );
    } catch (err) {
      notifyError('Could not sign out of Azure', err);
    } finally {
      setSigningOut(false);
    }
  };

  if (account) {
    return (
      <Menu positioning="below-end">
        <MenuTrigger disableButtonEnhancement>
          <Button
            appearance="subtle"
            className={styles.trigger}
            icon={signingOut ? <Spinner size="tiny" /> : <PersonCircle20Regular />}
            aria-label={`Azure account: ${account.username}, ${azure.cloudLabel}`}
            data-testid="azure-account"
          >
            <span className={styles.triggerText}>
              <span className={styles.who} data-testid="azure-account-name">
                {account.username}
              </span>
              <Caption1 className={styles.cloud}>{azure.cloudLabel}</Caption1>
            </span>
          </Button>
        </MenuTrigger>
        <MenuPopover>
          <MenuList>
            <MenuGroup>
              <MenuGroupHeader>Signed in to Azure</MenuGroupHeader>
              <div className={styles.facts} data-testid="azure-account-facts">
                <span>
                  <strong>{accountLabel(account)}</strong>
                </span>
                <span>
                  <span className={styles.term}>Cloud: </span>
                  {azure.cloudLabel}
                </span>
                <span>
                  <span className={styles.term}>Tenant: </span>
                  {account.tenantId}
                </span>
                {azure.tokenStorage && (
                  <Caption1>
                    <span className={styles.term}>Tokens: </span>
                    {azure.tokenStorage}
                  </Caption1>
                )}
              </div>
            </MenuGroup>
            <MenuDivider />
            <MenuItem icon={<SignOut20Regular />} onClick={() => void signOut()} disabled={lost} data-testid="azure-sign-out">
              Sign out
            </MenuItem>
          </MenuList>
        </MenuPopover>
      </Menu>
    );
  }

  return (
    <>
      <Button
        appearance="subtle"
        icon={azure.signingIn ? <Spinner size="tiny" /> : <PersonAccounts20Regular />}
        onClick={() => setSigningIn(true)}
        disabledFocusable={lost}
        {...restoreFocus}
        data-testid="azure-sign-in-open"
      >
        {azure.signingIn ? 'Signing in to Azure…' : 'Sign in to Azure'}
      </Button>
      <Dialog open={signingIn} onOpenChange={(_, data) => !data.open && setSigningIn(false)} modalType="modal">
        <DialogSurface className={styles.surface} aria-describedby={undefined}>
          <DialogBody>
            <DialogTitle>Sign in to Azure</DialogTitle>
            <DialogContent>
              {signingIn && (
                <AzureSignIn intro="Signed in, you can add Hybrid Connections by picking them, and HCM fetches a key rotated in Azure by itself." />
              )}
            </DialogContent>
            <DialogActions>
              <Button appearance="secondary" onClick={() => setSigningIn(false)}>
                Close
              </Button>
            </DialogActions>
          </DialogBody>
        </DialogSurface>
      </Dialog>
    </>
  );
}
