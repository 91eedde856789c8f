import type { Command } from 'commander';
import { hcmPaths } from '../../core/paths.js';
import { VERSION } from '../../core/version.js';
import { describeCheck, quickCheck } from './update.js';

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('print the version, whether a newer one exists, and where configuration and logs live')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const paths = hcmPaths();
      // A short look at the update feed (a few seconds at most; off when update checks are off).
      const update = await quickCheck();
      const info = {
        version: VERSION,
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        config: paths.configFile,
        logs: paths.logDir,
        update: update.state,
      };
      if (opts.json) process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      else
        process.stdout.write(
          `open-hcm ${VERSION} (node ${process.version}, ${info.platform})\nconfig: ${info.config}\nlogs:   ${info.logs}\n` +
            describeCheck(update, 'line'),
        );
    });
}
