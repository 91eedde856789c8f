import { Badge, type BadgeProps } from '@fluentui/react-components';
import { ArrowSync16Regular, CheckmarkCircle16Filled, Circle16Regular, ErrorCircle16Filled, Warning16Filled } from '@fluentui/react-icons';
import type { ReactElement } from 'react';
import type { OverallState, OverallStatus } from '../../shared/overall-status.js';

const LOOK: Record<OverallState, { color: BadgeProps['color']; icon: ReactElement }> = {
  empty: { color: 'subtle', icon: <Circle16Regular /> },
  connected: { color: 'success', icon: <CheckmarkCircle16Filled /> },
  connecting: { color: 'informative', icon: <ArrowSync16Regular /> },
  degraded: { color: 'warning', icon: <Warning16Filled /> },
  down: { color: 'danger', icon: <ErrorCircle16Filled /> },
};

export function OverallStatusBadge({ overall }: { overall: OverallStatus }) {
  const look = LOOK[overall.state];
  return (
    <Badge appearance="tint" size="large" color={look.color} icon={look.icon} data-overall={overall.state}>
      {overall.label}
    </Badge>
  );
}
