import { fileURLToPath } from 'node:url';

/** Where the built CLI and bench helpers are, and where results go (relative to dist/bench). */
let cli = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/** The `hcm` build under test: this tree's, or another one (--cli) to measure an older commit. */
export function cliPath(): string {
  return cli;
}

export function useCli(path: string): void {
  cli = path;
}
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));

export function helperScript(name: string): string {
  return fileURLToPath(new URL(`./helpers/${name}.js`, import.meta.url));
}
