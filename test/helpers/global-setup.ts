import { existsSync } from 'node:fs';
import { CLI } from './paths.js';

/** Integration tests run the built CLI as real processes; `npm test` builds it first. */
export default function setup(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" (npm test does it for you)`);
}
