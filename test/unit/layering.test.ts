import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';

/**
 * The import rules of docs/architecture.md (Layering), checked on every file: relay <- core <- {main, cli};
 * renderer -> shared only; emulator -> relay; 'electron' only in src/main.
 */

const SRC = join(ROOT, 'src');

const ALLOWED: Record<string, string[]> = {
  shared: ['shared'],
  relay: ['relay'],
  emulator: ['emulator', 'relay'],
  core: ['core', 'relay', 'shared'],
  cli: ['cli', 'core', 'relay', 'shared', 'emulator'],
  // The desktop app hosts the demo's local relay (src/emulator/demo.ts), loaded on demand.
  main: ['main', 'core', 'relay', 'shared', 'emulator'],
  renderer: ['renderer', 'shared'],
  bench: ['bench', 'core', 'relay', 'shared', 'emulator'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return /\.(ts|tsx|cts|mts)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

function imports(source: string): string[] {
  const found: string[] = [];
  const re =
    /(?:import|export)\s+(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of source.matchAll(re)) found.push((m[1] ?? m[2] ?? m[3])!);
  return found;
}

describe('layering', () => {
  const all = files(SRC);

  it('finds the source tree', () => {
    expect(all.length).toBeGreaterThan(30);
  });

  it.each(all.map((f) => [relative(SRC, f)]))('%s imports only what its layer may', (rel) => {
    const layer = rel.split('/')[0]!;
    const allowed = ALLOWED[layer];
    expect(allowed, `no rule for layer "${layer}"`).toBeDefined();
    const source = readFileSync(join(SRC, rel), 'utf8');
    for (const spec of imports(source)) {
      if (spec === 'electron' || spec.startsWith('electron/')) {
        expect(layer, `${rel} imports electron`).toBe('main');
        continue;
      }
      if (!spec.startsWith('.')) continue;
      const target = relative(SRC, join(SRC, rel, '..', spec)).split('/')[0]!;
      expect(allowed, `${rel} imports ${spec} (layer ${target})`).toContain(target);
    }
  });
});
