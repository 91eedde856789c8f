import { makeStyles, tokens } from '@fluentui/react-components';

/**
 * A <dl> of facts as two columns (term, value) that wrap inside a card or a narrow panel: the
 * terms take what they need, the values the rest and break anywhere (hosts, addresses, keys).
 */
export const useFactListStyles = makeStyles({
  facts: {
    display: 'grid',
    gridTemplateColumns: 'max-content minmax(0, 1fr)',
    columnGap: tokens.spacingHorizontalM,
    rowGap: tokens.spacingVerticalXXS,
    margin: 0,
  },
  term: { color: tokens.colorNeutralForeground3 },
  value: { margin: 0, overflowWrap: 'anywhere' },
});
