import { Badge, type BadgeProps } from '@fluentui/react-components';
import {
  ArrowSync16Regular,
  CheckmarkCircle16Filled,
  LockClosed16Filled,
  PlugDisconnected16Filled,
  QuestionCircle16Filled,
} from '@fluentui/react-icons';
import type { ReactElement } from 'react';
import { type ConnectionStatus, STATUS_LABELS } from '../../shared/api.js';

// Every status has its own words and icon, so nobody depends on telling colours apart.
const LOOK: Record<ConnectionStatus, { color: BadgeProps['color']; icon: ReactElement }> = {
  Connected: { color: 'success', icon: <CheckmarkCircle16Filled /> },
  Connecting: { color: 'informative', icon: <ArrowSync16Regular /> },
  NotConnected: { color: 'danger', icon: <PlugDisconnected16Filled /> },
  NotFound: { color: 'danger', icon: <QuestionCircle16Filled /> },
  Unauthorized: { color: 'danger', icon: <LockClosed16Filled /> },
};

export function StatusBadge({ status, size = 'large' }: { status: ConnectionStatus; size?: BadgeProps['size'] }) {
  const look = LOOK[status];
  return (
    <Badge appearance="tint" color={look.color} icon={look.icon} size={size} data-status={status}>
      {STATUS_LABELS[status]}
    </Badge>
  );
}
