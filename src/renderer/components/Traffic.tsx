import { makeStyles, tokens } from '@fluentui/react-components';
import { ArrowLeft16Regular, ArrowRight16Regular } from '@fluentui/react-icons';
import type { ConnectionCounters } from '../../shared/api.js';
import { formatBytes } from '../format.js';
import { VisuallyHidden } from './VisuallyHidden.js';

const useStyles = makeStyles({
  root: { display: 'inline-flex', flexWrap: 'wrap', columnGap: tokens.spacingHorizontalM, rowGap: tokens.spacingVerticalXXS },
  part: {
    display: 'inline-flex',
    alignItems: 'center',
    gap: tokens.spacingHorizontalXXS,
    whiteSpace: 'nowrap',
    fontVariantNumeric: 'tabular-nums',
  },
});

/** Bytes both ways; arrows for the eye, words for screen readers. */
export function Traffic({ counters }: { counters: ConnectionCounters }) {
  const styles = useStyles();
  return (
    <span className={styles.root} data-testid="traffic">
      <span className={styles.part} title="Sent to the endpoint">
        <ArrowRight16Regular aria-hidden />
        <VisuallyHidden>to endpoint </VisuallyHidden>
        {formatBytes(counters.bytesToEndpoint)}
      </span>
      <span className={styles.part} title="Received from the endpoint">
        <ArrowLeft16Regular aria-hidden />
        <VisuallyHidden>from endpoint </VisuallyHidden>
        {formatBytes(counters.bytesFromEndpoint)}
      </span>
    </span>
  );
}
