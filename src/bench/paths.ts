import { fileURLToPath } from 'node:url';

/** Where the built CLI and bench helpers are, and where results go (relative to dist/bench). */
export const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));

export function helperScript(name: string): string {
  return fileURLToPath(new URL(`./helpers/${name}.js`, import.meta.url));
}
