import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trackDir } from './cleanup.js';
import { REPO_ROOT } from './paths.js';

/**
 * Builds `hcm` as it was at a commit, in a temporary directory (removed at the end of the run),
 * so a before/after comparison measures exactly those commits, and so others rebuilding dist/
 * in the shared tree cannot change the code under a running measurement.
 */
export function buildCommit(commit: string): { cli: string; commit: string } {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let sha: string;
  try {
    sha = git('rev-parse', '--verify', `${commit}^{commit}`).toString().trim();
  } catch {
    throw new Error(`--commit ${commit}: no such commit in ${REPO_ROOT}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'hcm-bench-build-'));
  trackDir(dir);
  execFileSync('bash', ['-c', 'git archive "$1" src tsconfig.json package.json | tar -x -C "$2"', 'bash', sha, dir], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // Same dependencies as the work tree: the bench compares our code, not dependency versions.
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  try {
    execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const out = (err as { stdout?: Buffer }).stdout?.toString() ?? '';
    throw new Error(`building ${sha.slice(0, 12)} failed:\n${out.slice(0, 3000)}`, { cause: err });
  }
  const cli = join(dir, 'dist/cli/main.js');
  if (!existsSync(cli)) throw new Error(`building ${sha.slice(0, 12)} produced no dist/cli/main.js`);
  return { cli, commit: sha };
}
