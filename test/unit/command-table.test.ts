import { describe, expect, it } from 'vitest';
import { COMMAND_MODULES, modulesFor } from '../../src/cli/command-table.js';

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
