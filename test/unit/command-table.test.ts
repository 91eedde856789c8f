import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_MODULES, modulesFor } from '../../src/cli/command-table.js';
import { CLI } from '../helpers/paths.js';

const names = (args: string[]) => modulesFor(args).map((m) => m.names[0]);

describe('modulesFor: only the module of the command given is loaded', () => {
  it('loads the one module defining the command, after global options', () => {
    expect(names(['version'])).toEqual(['version']);
    expect(names(['list', '--json'])).toEqual(['add']);
    expect(names(['--ca', 'ca.pem', 'logs', '-n', '5'])).toEqual(['logs']);
  });

  it('loads none for --version alone, and all for help, no command or an unknown one', () => {
    const all = COMMAND_MODULES.map((m) => m.names[0]);
    expect(names(['--version'])).toEqual([]);
    expect(names(['-V'])).toEqual([]);
    expect(names(['--version', '--help'])).toEqual(all);
    expect(names(['--help'])).toEqual(all);
    expect(names([])).toEqual(all);
    expect(names(['lsit'])).toEqual(all);
  });
});

describe('start-up of the commands scripts poll', () => {
  // An ES import of node:fs builds its namespace, whose `promises` export loads fs/promises,
  // readline and the stream classes: ~5-8 ms of every command's start (docs/performance.md).
  it('hcm version and hcm list --json load neither fs/promises nor readline', () => {
    const home = mkdtempSync(join(tmpdir(), 'hcm-startup-'));
    try {
      for (const args of [['version'], ['list', '--json']]) {
        const { stderr: out } = spawnSync(
          process.execPath,
          [
            '--import',
            'data:text/javascript,process.on("exit",()=>process.stderr.write("\\nLOADED "+process.moduleLoadList.join(",")))',
            CLI,
            ...args,
          ],
          { env: { ...process.env, HCM_HOME: home, HCM_NO_UPDATE_CHECK: '1' }, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] },
        );
        const loaded = /LOADED (.*)/.exec(out)?.[1]?.split(',') ?? [];
        expect(loaded.length, args.join(' ')).toBeGreaterThan(50);
        expect(
          loaded.filter((m) => /fs\/promises|readline/.test(m)),
          args.join(' '),
        ).toEqual([]);
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
