import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bridgeMarkerPath, readBridgeMarker } from '../../src/core/updates/handover-bridge.js';

/** The marker that tells a new version its running agent is the stand-in an update left (handover-bridge.ts). */
describe('the stand-in marker', () => {
  const home = () => mkdtempSync(join(tmpdir(), 'hcm-marker-'));
  const write = (dir: string, marker: unknown) => writeFileSync(bridgeMarkerPath(dir), JSON.stringify(marker));

  it('names a stand-in that runs and started recently', () => {
    const dir = home();
    write(dir, { pid: process.pid, fromVersion: '0.1.0', startedAt: new Date().toISOString() });
    expect(readBridgeMarker(dir)).toEqual({ pid: process.pid, fromVersion: '0.1.0', startedAt: expect.any(String) });
  });

  it('is ignored and removed when its process is gone, it is an hour old, or it is not a marker', async () => {
    const gone = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => gone.once('exit', r));
    const cases: unknown[] = [
      { pid: gone.pid, fromVersion: '0.1.0', startedAt: new Date().toISOString() },
      { pid: process.pid, fromVersion: '0.1.0', startedAt: new Date(Date.now() - 61 * 60_000).toISOString() },
      { pid: process.pid, fromVersion: '0.1.0', startedAt: new Date(Date.now() + 60_000).toISOString() },
      { pid: 'x', startedAt: new Date().toISOString() },
    ];
    for (const marker of cases) {
      const dir = home();
      write(dir, marker);
      expect(readBridgeMarker(dir), JSON.stringify(marker)).toBeNull();
      expect(existsSync(bridgeMarkerPath(dir))).toBe(false);
    }
    const garbled = home();
    writeFileSync(bridgeMarkerPath(garbled), '{not json');
    expect(readBridgeMarker(garbled)).toBeNull();
    expect(readBridgeMarker(home())).toBeNull();
  });
});
