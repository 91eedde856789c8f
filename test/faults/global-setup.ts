import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { CLI, ROOT } from '../helpers/paths.js';
import { readSections, renderFigures } from './figures.js';

/**
 * Runs once around the whole fault suite: checks the build, gives the tests a folder for their
 * figures, and at the end prints every section as one table and saves it to docs/faults-latest.txt.
 */
export default function setup(project: TestProject): () => void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" (npm run test:faults does it for you)`);
  const dir = mkdtempSync(join(tmpdir(), 'hcm-faults-'));
  project.provide('faultFiguresDir', dir);
  const started = new Date();
  const loadAtStart = loadavg()[0]!.toFixed(1);
  return () => {
    const seconds = Math.round((Date.now() - started.getTime()) / 1000);
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const header = [
      `Open HCM fault suite (issue 15, item 5) — npm run test:faults`,
      `run ${started.toISOString()}, open-hcm ${version}, Node ${process.version}, ${cpus().length} cores, ` +
        `load average ${loadAtStart} at the start and ${loadavg()[0]!.toFixed(1)} at the end, ${Math.floor(seconds / 60)} min ${seconds % 60} s in all`,
    ];
    const text = renderFigures(readSections(dir), header);
    process.stdout.write(`\n${text}\n`);
    writeFileSync(join(ROOT, 'docs', 'faults-latest.txt'), `${text}\n`);
    rmSync(dir, { recursive: true, force: true });
  };
}
