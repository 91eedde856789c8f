import type { Command } from 'commander';
import { hcmPaths } from '../../core/paths.js';
import { VERSION } from '../../core/version.js';

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('print the version and where configuration and logs live')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) => {
      const paths = hcmPaths();
      const info = {
        version: VERSION,
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        config: paths.configFile,
        logs: paths.logDir,
      };
      if (opts.json) process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      else
        process.stdout.write(
          `open-hcm ${VERSION} (node ${process.version}, ${info.platform})\nconfig: ${info.config}\nlogs:   ${info.logs}\n`,
        );
    });
}
