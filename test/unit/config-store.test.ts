import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, ConfigStore, type StoredConnection } from '../../src/core/config-store.js';
import { withFileLock } from '../../src/core/file-lock.js';

function store() {
  const home = mkdtempSync(join(tmpdir(), 'hcm-cfg-'));
  return { home, store: new ConfigStore({ home, configFile: join(home, 'config.json'), secretsFile: join(home, 'secrets.json') }) };
}

const conn = (id: string): StoredConnection => ({
  id,
  name: id.split('/')[1]!,
  namespace: id.split('/')[0]!,
  serviceBusAddress: 'sb://ns.servicebus.windows.net/',
  keyName: 'defaultListener',
  endpoint: 'db:5432',
  endpointSource: 'metadata',
  addedAt: new Date(0).toISOString(),
  connectionString: `Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=defaultListener;SharedAccessKey=SECRET-${id};EntityPath=${id.split('/')[1]}`,
});

describe('ConfigStore', () => {
  it('starts empty, saves settings and keys in separate 0600 files', async () => {
    const { home, store: s } = store();
    expect(s.load().connections).toEqual([]);
    await s.update((list) => list.push(conn('ns/a')));
    const config = readFileSync(join(home, 'config.json'), 'utf8');
    const secrets = readFileSync(join(home, 'secrets.json'), 'utf8');
    expect(config).not.toContain('SECRET');
    expect(JSON.parse(config)).toMatchObject({ schemaVersion: 1, connections: [{ id: 'ns/a', endpoint: 'db:5432' }] });
    expect(secrets).toContain('SECRET-ns/a');
    if (process.platform !== 'win32') {
      expect(statSync(join(home, 'config.json')).mode & 0o777).toBe(0o600);
      expect(statSync(join(home, 'secrets.json')).mode & 0o777).toBe(0o600);
    }
    expect(s.load().connections[0]!.connectionString).toContain('SECRET-ns/a');
  });

  it('loses no edit when 200 writers change it at once (each waits its turn, none gives up)', async () => {
    const { home } = store();
    const writers = Array.from(
      { length: 200 },
      () => new ConfigStore({ home, configFile: join(home, 'config.json'), secretsFile: join(home, 'secrets.json') }),
    );
    await Promise.all(writers.map((w, i) => w.update((list) => list.push(conn(`ns/c${i}`)))));
    expect(
      writers[0]!
        .load()
        .connections.map((c) => c.id)
        .sort(),
    ).toEqual(Array.from({ length: 200 }, (_, i) => `ns/c${i}`).sort());
  });

  it('reports a corrupt file by name and leaves it untouched, also on update', async () => {
    const { home, store: s } = store();
    const file = join(home, 'config.json');
    writeFileSync(file, '{"schemaVersion":1,"connections":[');
    expect(() => s.load()).toThrow(ConfigError);
    expect(() => s.load()).toThrow(new RegExp(`${file}: is not valid JSON`));
    await expect(s.update((list) => list.push(conn('ns/x')))).rejects.toThrow(/not valid JSON/);
    expect(readFileSync(file, 'utf8')).toBe('{"schemaVersion":1,"connections":[');
  });

  it('names the problem for a wrong shape, a newer schema and a missing key', () => {
    const { home, store: s } = store();
    writeFileSync(join(home, 'config.json'), JSON.stringify({ schemaVersion: 1, connections: [{ id: 'x' }] }));
    expect(() => s.load()).toThrow(/does not match the expected format \(connections\.0\./);
    writeFileSync(join(home, 'config.json'), JSON.stringify({ schemaVersion: 7, connections: [] }));
    expect(() => s.load()).toThrow(/newer version of HCM \(schema 7/);
  });

  it('finishes a removal cut short between the two files, with a warning, and writes them consistent again', async () => {
    const { home, store: s } = store();
    await s.update((list) => list.push(conn('ns/a'), conn('ns/b')));
    // What a kill between the two writes of a removal leaves: secrets.json without ns/a, config.json with it.
    const secrets = JSON.parse(readFileSync(join(home, 'secrets.json'), 'utf8')) as { connectionStrings: Record<string, string> };
    delete secrets.connectionStrings['ns/a'];
    writeFileSync(join(home, 'secrets.json'), JSON.stringify(secrets));
    const loaded = s.load();
    expect(loaded.connections.map((c) => c.id)).toEqual(['ns/b']);
    expect(loaded.warnings).toEqual([
      expect.stringMatching(/"ns\/a" is listed in .*config\.json but has no connection string .*treated as removed/),
    ]);
    await s.update((list) => list.push(conn('ns/c')));
    expect(s.load()).toEqual({
      connections: [expect.objectContaining({ id: 'ns/b' }), expect.objectContaining({ id: 'ns/c' })],
      warnings: [],
      settings: {},
      secretSettings: {},
    });
  });

  it('removes temporary files and breaks the lock of a writer that was killed, without waiting', async () => {
    const { home, store: s } = store();
    writeFileSync(join(home, 'config.json.4242.deadbeef.tmp'), 'half a file');
    writeFileSync(join(home, 'secrets.json.4242.cafef00d.tmp'), 'half a file');
    // A lock held by a process that no longer exists (pid 2^22 + 1 is above Linux's pid_max).
    writeFileSync(join(home, 'config.lock'), `${2 ** 22 + 1}\n${hostname()}\n0123456789abcdef\n`);
    const started = Date.now();
    await s.update((list) => list.push(conn('ns/a')));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(readdirSync(home).sort()).toEqual(['config.json', 'secrets.json']);
  });

  it('waits for a live holder of the lock and gives up with its pid after the bound', async () => {
    const { home } = store();
    writeFileSync(join(home, 'config.lock'), `${process.pid}\n${hostname()}\nfeedfacefeedface\n`);
    await expect(withFileLock(join(home, 'config.lock'), () => 1, { timeoutMs: 300 })).rejects.toThrow(
      new RegExp(`locked by process ${process.pid} `),
    );
  });

  it('does not write when the change is refused', async () => {
    const { home, store: s } = store();
    await s.update((list) => list.push(conn('ns/a')));
    const before = readFileSync(join(home, 'config.json'), 'utf8');
    await expect(
      s.update(() => {
        throw new Error('duplicate');
      }),
    ).rejects.toThrow('duplicate');
    expect(readFileSync(join(home, 'config.json'), 'utf8')).toBe(before);
  });

  it('notices changes made by another process', async () => {
    const { home, store: s } = store();
    let changes = 0;
    const stop = s.watch(() => changes++);
    const other = new ConfigStore({ home, configFile: join(home, 'config.json'), secretsFile: join(home, 'secrets.json') });
    await other.update((list) => list.push(conn('ns/w')));
    const deadline = Date.now() + 5000;
    while (changes === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    stop();
    expect(changes).toBeGreaterThan(0);
  });
});
