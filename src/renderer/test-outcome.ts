/** How a connection test's steps and the test as a whole read. */
import type { TestResult, TestStep } from '../shared/api.js';

export type StepOutcome = 'passed' | 'warning' | 'failed';

/** A step that passed but is worth a look (the clock a minute off) reads as a warning, never as "passed". */
export function stepOutcome(step: TestStep): StepOutcome {
  return !step.ok ? 'failed' : step.warning === true ? 'warning' : 'passed';
}

/** "passed", "passed with a warning", "passed with 2 warnings", "failed": the test as a whole, in words. */
export function testOutcomeText(result: TestResult): string {
  if (!result.ok) return 'failed';
  const warnings = result.steps.filter((s) => stepOutcome(s) === 'warning').length;
  return warnings === 0 ? 'passed' : `passed with ${warnings === 1 ? 'a warning' : `${warnings} warnings`}`;
}
