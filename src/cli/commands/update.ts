import type { Command } from 'commander';
import { transportFromEnv } from '../../core/environment.js';
import { hcmPaths } from '../../core/paths.js';
import type { TransportOptions } from '../../relay/transport.js';
import { FEED_TIMEOUT_MS, QUICK_CHECK_TIMEOUT_MS } from '../../core/updates/defaults.js';
import { type OneCheck, checkOnce } from '../../core/updates/feed-updates.js';
import { VERSION } from '../../core/version.js';
import { CliError, EXIT_UPDATE_AVAILABLE, setExitStatus } from '../exit.js';

/**
 * `hcm update`: is there a newer version, and how is this install updated (the exact command
 * for npm, apt, a tarball, a git checkout). `--check` is for scripts: exit 0 when current, 10
 * when an update exists, 1 when the check failed (with the reason). Nothing is installed: the
 * tool that installed hcm does that.
 */
export function registerUpdate(program: Command): void {
  program
    .command('update')
    .description('check for a newer version and print how to update this install')
    .option('--check', 'for scripts: exit 0 when up to date, 10 when an update exists, 1 when the check failed')
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      '\nThe feed is read from HCM_UPDATE_URL, settings.updates.url in config.json, or the one built in.\n' +
        'HCM_UPDATE_CHECK=off (or settings.updates.check: false) turns checks off; HCM_UPDATE_PRERELEASE=1 counts pre-releases.',
    )
    .action(async (opts: { check?: boolean; json?: boolean }) => {
      const result = await checkOnce({
        currentVersion: VERSION,
        paths: hcmPaths(),
        timeoutMs: FEED_TIMEOUT_MS,
        transport: transportOrThrow(),
      });
      const { state } = result;
      if (opts.json) process.stdout.write(`${JSON.stringify({ ...result }, null, 2)}\n`);
      else process.stdout.write(describeCheck(result, 'full'));
      if (state.state === 'error') throw new CliError(`update check failed: ${state.message}`, 'E_UPDATE');
      if (state.state === 'unsupported') throw new CliError(state.reason, 'E_UNSUPPORTED');
      if (state.state === 'available' && opts.check) setExitStatus(EXIT_UPDATE_AVAILABLE);
    });
}

/** `hcm version`'s short look: a few seconds at most, and never a failure. */
export async function quickCheck(): Promise<OneCheck> {
  let transport: TransportOptions | undefined;
  try {
    transport = transportFromEnv();
  } catch {
    transport = undefined;
  }
  return checkOnce({ currentVersion: VERSION, paths: hcmPaths(), timeoutMs: QUICK_CHECK_TIMEOUT_MS, transport });
}

function transportOrThrow(): TransportOptions {
  try {
    return transportFromEnv();
  } catch (err) {
    throw new CliError((err as Error).message, 'E_CONFIG');
  }
}

/** The check in words: `full` for `hcm update` (command, notes), `line` for `hcm version`. */
export function describeCheck(result: OneCheck, form: 'full' | 'line'): string {
  const { state } = result;
  const how = state.howToUpdate;
  switch (state.state) {
    case 'available': {
      const released = state.releaseDate ? ` (released ${formatDate(state.releaseDate)})` : '';
      if (form === 'line')
        return `update: ${state.version} is available${released}; ${how?.command ? `update with: ${how.command}` : 'run "hcm update" for how'}\n`;
      const lines = [`open-hcm ${state.currentVersion}: version ${state.version} is available${released}.`];
      if (how?.command) lines.push(`Update with: ${how.command}`);
      if (how) lines.push(how.description);
      if (state.notes) lines.push('', 'Release notes:', ...state.notes.split('\n').map((l) => `  ${l}`));
      return `${lines.join('\n')}\n`;
    }
    case 'up-to-date': {
      const why = result.detail && !result.detail.endsWith('is the latest version') ? ` (${result.detail})` : '';
      return form === 'line'
        ? `update: this is the latest version${why}\n`
        : `open-hcm ${state.currentVersion} is the latest version${why}.\nChecked ${result.source ?? 'the update feed'}.\n`;
    }
    case 'unsupported':
      return form === 'line' ? `update: not checked; ${lowerFirst(state.reason)}\n` : '';
    case 'error':
      return form === 'line' ? `update: could not check (${state.message})\n` : '';
    default:
      return '';
  }
}

/** The day of a release, as the feed gives it (UTC). */
function formatDate(iso: string): string {
  return iso.slice(0, 10);
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
