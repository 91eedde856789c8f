import { execFileSync } from 'node:child_process';

/** The external programs the bench drives, with the Debian package that provides each. */
const TOOLS: Record<string, string> = {
  iperf3: 'iperf3',
  socat: 'socat',
  'redis-server': 'redis-server',
  'redis-benchmark': 'redis-tools',
  openssl: 'openssl',
  bash: 'bash',
  git: 'git',
};

export function checkTools(): void {
  const missing = Object.entries(TOOLS).filter(([tool]) => {
    try {
      execFileSync('bash', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return;
  const lines = missing.map(([tool, pkg]) => `  ${tool}: install the Debian package "${pkg}"`);
  const packages = [...new Set(missing.map(([, pkg]) => pkg))].join(' ');
  throw new Error(`the bench needs programs that are not installed:\n${lines.join('\n')}\n(apt-get install ${packages})`);
}
