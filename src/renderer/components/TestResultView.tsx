import { Caption1, makeStyles, tokens } from '@fluentui/react-components';
import { CheckmarkCircle16Filled, DismissCircle16Filled, Warning16Filled } from '@fluentui/react-icons';
import type { TestResult } from '../../shared/api.js';
import { stepOutcome, testOutcomeText } from '../test-outcome.js';

const useStyles = makeStyles({
  list: { listStyle: 'none', margin: 0, padding: 0, display: 'grid', gap: tokens.spacingVerticalS },
  step: { display: 'grid', gridTemplateColumns: 'auto minmax(0, 1fr)', columnGap: tokens.spacingHorizontalS, alignItems: 'start' },
  ok: { color: tokens.colorPaletteGreenForeground1, marginTop: '2px' },
  warn: { color: tokens.colorStatusWarningForeground3, marginTop: '2px' },
  bad: { color: tokens.colorPaletteRedForeground1, marginTop: '2px' },
  detail: { overflowWrap: 'anywhere', color: tokens.colorNeutralForeground2 },
});

/** Each check of a connection test with its outcome in words, not only an icon. */
export function TestResultView({ result }: { result: TestResult }) {
  const styles = useStyles();
  return (
    <ol className={styles.list} aria-label={`Test of ${result.target}: ${testOutcomeText(result)}`} data-testid="test-result">
      {result.steps.map((step) => {
        const outcome = stepOutcome(step);
        return (
          <li key={step.name} className={styles.step} data-outcome={outcome}>
            {outcome === 'passed' ? (
              <CheckmarkCircle16Filled className={styles.ok} aria-hidden />
            ) : outcome === 'warning' ? (
              <Warning16Filled className={styles.warn} aria-hidden />
            ) : (
              <DismissCircle16Filled className={styles.bad} aria-hidden />
            )}
            <div>
              <strong>
                {step.name}: {outcome}
              </strong>{' '}
              <Caption1>({step.ms} ms)</Caption1>
              <div className={styles.detail}>{step.detail}</div>
            </div>
          </li>
        );
      })}
    </ol>
  );
}
