import { Badge, type BadgeProps } from '@fluentui/react-components';
import {
  ArrowSync16Regular,
  CheckmarkCircle16Filled,
  LockClosed16Filled,
  PlugDisconnected16Filled,
  QuestionCircle16Filled,
  QuestionCircle16Regular,
} from '@fluentui/react-icons';
import type { ReactElement } from 'react';
import { type ConnectionStatus, STATUS_LABELS } from '../../shared/api.js';
import { useHcm } from '../state/use-hcm.js';

// Every status has its own words and icon, so nobody depends on telling colours apart.
const LOOK: Record<ConnectionStatus, { color: BadgeProps['color']; icon: ReactElement }> = {
  Connected: { color: 'success', icon: <CheckmarkCircle16Filled /> },
  Connecting: { color: 'informative', icon: <ArrowSync16Regular /> },
  NotConnected: { color: 'danger', icon: <PlugDisconnected16Filled /> },
  NotFound: { color: 'danger', icon: <QuestionCircle16Filled /> },
  Unauthorized: { color: 'danger', icon: <LockClosed16Filled /> },
};

/** What a status reads while the host cannot be reached: the last one known may be long gone. */
export const UNKNOWN_STATUS_LABEL = 'Status unknown';

/** A connection's status in words; "Status unknown" (classic HCM's words) while the host is out of reach. */
export function StatusBadge({ status, size = 'large' }: { status: ConnectionStatus; size?: BadgeProps['size'] }) {
  const lost = useHcm((s) => s.link === 'lost');
  if (lost) {
    return (
      <Badge appearance="tint" color="subtle" icon={<QuestionCircle16Regular />} size={size} data-status="Unknown">
        {UNKNOWN_STATUS_LABEL}
      </Badge>
    );
  }
  const look = LOOK[status];
  return (
    <Badge appearance="tint" color={look.color} icon={look.icon} size={size} data-status={status}>
      {STATUS_LABELS[status]}
    </Badge>
  );
}
