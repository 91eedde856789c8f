import { readFileSync } from './fs-sync.js';

/** The package version, read once from package.json (two levels above dist/core or src/core). */
export const VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
})();
