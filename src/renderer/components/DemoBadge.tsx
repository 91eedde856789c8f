import { Badge } from '@fluentui/react-components';
import { Beaker16Regular } from '@fluentui/react-icons';

/** Marks the demo wherever it appears, so it never passes for a real connection. */
export function DemoBadge({ size = 'medium' }: { size?: 'small' | 'medium' | 'large' }) {
  return (
    <Badge appearance="outline" color="brand" size={size} icon={<Beaker16Regular />} data-demo-badge>
      Demo
    </Badge>
  );
}
