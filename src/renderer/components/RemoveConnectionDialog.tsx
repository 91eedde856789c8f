import { Button, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, Spinner } from '@fluentui/react-components';
import { useState } from 'react';

interface Props {
  name: string;
  open: boolean;
  onCancel: () => void;
  onConfirm: () => Promise<void>;
}

/** Removing stops this machine relaying for the connection; ask first, and say what it means. */
export function RemoveConnectionDialog({ name, open, onCancel, onConfirm }: Props) {
  const [busy, setBusy] = useState(false);
  const confirm = async () => {
    setBusy(true);
    try {
      await onConfirm();
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open={open} modalType="alert" onOpenChange={(_, data) => !data.open && !busy && onCancel()}>
      <DialogSurface>
        <DialogBody>
          <DialogTitle>Remove {name}?</DialogTitle>
          <DialogContent>
            This machine stops listening on {name}. Apps that reach their endpoint through it lose that path unless another agent listens on
            the same Hybrid Connection. The Hybrid Connection itself stays in Azure; you can add it again later with its connection string.
          </DialogContent>
          <DialogActions>
            <Button appearance="secondary" onClick={onCancel} disabledFocusable={busy}>
              Cancel
            </Button>
            <Button
              appearance="primary"
              onClick={confirm}
              disabledFocusable={busy}
              icon={busy ? <Spinner size="tiny" /> : undefined}
              data-testid="confirm-remove"
            >
              Remove
            </Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
