import { makeStyles, tokens } from '@fluentui/react-components';
import type { ReactNode } from 'react';

const useStyles = makeStyles({
  list: {
    display: 'grid',
    gridTemplateColumns: 'minmax(8rem, max-content) minmax(0, 1fr)',
    columnGap: tokens.spacingHorizontalL,
    rowGap: tokens.spacingVerticalS,
    margin: 0,
  },
  term: { color: tokens.colorNeutralForeground3 },
  value: { margin: 0, overflowWrap: 'anywhere' },
  pair: { display: 'contents' },
});

/** A two-column list of label/value pairs, as the portal's "Essentials" shows them. */
export function FactList({ facts, label, testId }: { facts: Array<[string, ReactNode]>; label: string; testId?: string }) {
  const styles = useStyles();
  return (
    <dl className={styles.list} aria-label={label} data-testid={testId}>
      {facts.map(([term, value]) => (
        <div key={term} className={styles.pair} data-fact={term}>
          <dt className={styles.term}>{term}</dt>
          <dd className={styles.value}>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
