import { makeStyles, tokens } from '@fluentui/react-components';
import { openTunnelsSentence } from '../state/connection-list.js';
import { ConfirmDialog } from './ConfirmDialog.js';

const useStyles = makeStyles({
  text: { display: 'grid', gap: tokens.spacingVerticalS, overflowWrap: 'anywhere' },
  list: { margin: 0, paddingInlineStart: tokens.spacingHorizontalXL },
});

interface Props {
  /** The connections' names. */
  names: string[];
  /** Tunnels open through them right now. */
  openTunnels: number;
  open: boolean;
  onCancel: () => void;
  onConfirm: () => Promise<void>;
}

/** Removing stops this machine relaying for the connections; ask first, and say what it means. */
export function RemoveConnectionDialog({ names, openTunnels, open, onCancel, onConfirm }: Props) {
  const styles = useStyles();
  const one = names.length === 1;
  return (
    <ConfirmDialog
      open={open}
      title={one ? `Remove ${names[0]}?` : `Remove ${names.length} connections?`}
      confirmLabel="Remove"
      confirmTestId="confirm-remove"
      onCancel={onCancel}
      onConfirm={onConfirm}
    >
      <div className={styles.text}>
        {openTunnels > 0 && <strong data-testid="open-tunnels">{openTunnelsSentence(openTunnels)}</strong>}
        {!one && (
          <ul className={styles.list}>
            {names.map((n, i) => (
              <li key={i}>{n}</li>
            ))}
          </ul>
        )}
        <span>
          This machine stops listening on {one ? names[0] : 'them'}. Apps that reach their endpoint through {one ? 'it' : 'them'} lose that
          path unless another agent listens on the same Hybrid Connection. The Hybrid Connection itself stays in Azure; you can add it again
          later with its connection string.
        </span>
      </div>
    </ConfirmDialog>
  );
}
