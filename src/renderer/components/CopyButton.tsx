import { Button, Tooltip } from '@fluentui/react-components';
import { Checkmark16Regular, Copy16Regular } from '@fluentui/react-icons';
import { useEffect, useState } from 'react';
import { useHcm } from '../state/use-hcm.js';
import { useNotifyError } from './notify.js';

/** Copies one value (an endpoint, an address, a host) for pasting into a firewall rule, a ticket or a terminal. */
export function CopyButton({ text, what }: { text: string; what: string }) {
  const announce = useHcm((s) => s.announce);
  const notifyError = useNotifyError();
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const timer = setTimeout(() => setCopied(false), 2000);
    return () => clearTimeout(timer);
  }, [copied]);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      announce(`${what.charAt(0).toUpperCase()}${what.slice(1)} copied.`);
    } catch (err) {
      notifyError(`Could not copy the ${what}`, err);
    }
  };
  return (
    <Tooltip content={copied ? 'Copied' : `Copy the ${what}`} relationship="description" withArrow>
      <Button
        appearance="subtle"
        size="small"
        icon={copied ? <Checkmark16Regular /> : <Copy16Regular />}
        aria-label={`Copy ${what}`}
        onClick={() => void copy()}
        data-copy={what}
      />
    </Tooltip>
  );
}
