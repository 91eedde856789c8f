import { chmodSync, chownSync, fstatSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveGroupId } from '../../src/core/admin-group.js';
import { UntrustedSocketError, checkControlSocket } from '../../src/core/control-socket.js';
import { parseConnectionStringList } from '../../src/core/env-connections.js';
import { buildFleetFile, parseFleetFile, writeFleetFile } from '../../src/core/fleet.js';
import { ensureGroupFolder } from '../../src/core/folders.js';
import { parseStatusAddress } from '../../src/core/http-status.js';
import { defaultLogFormat, formatJsonLine } from '../../src/core/logger.js';
import { readiness } from '../../src/core/metrics.js';
import type { StoredConnection } from '../../src/core/config-store.js';
import { systemdUnit } from '../../src/core/service-units/systemd.js';
import type { ConnectionSummary } from '../../src/shared/api.js';

/** The small pure pieces of issue 16 (operations), one by one. */

const scratch = () => mkdtempSync(join(tmpdir(), 'hcm-ops-'));
const isRoot = process.getuid?.() === 0;
const KEY = 'c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0wMTIzNDU2Nzg=';
const cs = (hc: string) =>
  `Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=defaultListener;SharedAccessKey=${KEY};EntityPath=${hc}`;

function listen(path: string): Promise<net.Server> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(path, () => resolve(s));
  });
}

describe.runIf(isRoot)('the control socket of a system service (admin group)', () => {
  const SERVICE = 23_501;
  const ADMINS = 23_502;

  it("accepts another user's socket shared with a group of mine, in a folder only its owner can write", async () => {
    const dir = join(scratch(), 'run');
    mkdirSync(dir, { mode: 0o750 });
    chownSync(dir, SERVICE, ADMINS);
    const path = join(dir, 'hcm.sock');
    const server = await listen(path);
    try {
      chownSync(path, SERVICE, ADMINS);
      chmodSync(path, 0o660);
      // A member (by any of its groups) may use it; someone else may not.
      expect(checkControlSocket(path, 1000, [1000, ADMINS])).toBe(true);
      expect(() => checkControlSocket(path, 1000, [1000])).toThrow(
        /belongs to user 23501, not to you \(1000\), and is not shared with a group of yours/,
      );
      // Not shared for writing with the group: refused.
      chmodSync(path, 0o640);
      expect(() => checkControlSocket(path, 1000, [ADMINS])).toThrow(UntrustedSocketError);
      chmodSync(path, 0o660);
      // A folder the group (or anyone else) could write to: someone else could have put the socket there.
      chmodSync(dir, 0o770);
      expect(() => checkControlSocket(path, 1000, [ADMINS])).toThrow(/not a folder of the socket's owner that only it can write to/);
      chmodSync(dir, 0o750);
      // A folder of a third user: refused.
      chownSync(dir, 23_503, ADMINS);
      expect(() => checkControlSocket(path, 1000, [ADMINS])).toThrow(UntrustedSocketError);
    } finally {
      server.close();
    }
  });

  it('makes the folder 0750 with the group, and refuses one of another user', () => {
    const dir = join(scratch(), 'shared');
    ensureGroupFolder(dir, 'control socket', ADMINS, 0);
    const info = lstatSync(dir);
    expect([info.uid, info.gid, info.mode & 0o777]).toEqual([0, ADMINS, 0o750]);
    chmodSync(dir, 0o777);
    ensureGroupFolder(dir, 'control socket', ADMINS, 0);
    expect(lstatSync(dir).mode & 0o777).toBe(0o750);
    chownSync(dir, SERVICE, ADMINS);
    expect(() => ensureGroupFolder(dir, 'control socket', ADMINS, 0)).toThrow(/belongs to user 23501/);
  });
});

describe('HCM_ADMIN_GROUP', () => {
  it('is a number, or a name looked up in the group file', () => {
    const file = join(scratch(), 'group');
    writeFileSync(file, 'root:x:0:\nhcm-admins:x:990:ann,bob\n');
    expect(resolveGroupId('4242', file)).toBe(4242);
    expect(resolveGroupId('hcm-admins', file)).toBe(990);
    expect(() => resolveGroupId('nope', file)).toThrow(/no such group .* give its number/);
  });
});

describe('structured logs', () => {
  it('are one object with time, level, connection, event, message and fields, keys redacted', () => {
    const line = formatJsonLine(
      { seq: 1, time: '2026-01-01T00:00:00.000Z', level: 'warn', message: 'refused', connection: 'contoso/db' },
      { event: 'listen.failed', reason: `the relay said ${cs('db')}`, code: 401, gone: undefined },
    );
    expect(JSON.parse(line)).toEqual({
      time: '2026-01-01T00:00:00.000Z',
      level: 'warn',
      connection: 'contoso/db',
      event: 'listen.failed',
      message: 'refused',
      fields: { reason: expect.stringContaining('SharedAccessKey=<redacted>'), code: 401 },
    });
    expect(line).not.toContain(KEY);
    expect(JSON.parse(formatJsonLine({ seq: 2, time: 't', level: 'info', message: 'm' }))).toMatchObject({
      connection: null,
      event: 'log',
      fields: {},
    });
  });

  it('are journald lines only when stderr is the journal JOURNAL_STREAM names', () => {
    const s = fstatSync(2);
    expect(defaultLogFormat({ JOURNAL_STREAM: `${s.dev}:${s.ino}` })).toBe('journald');
    expect(defaultLogFormat({ JOURNAL_STREAM: '1:2' })).toBe('text');
    expect(defaultLogFormat({})).toBe('text');
  });
});

describe('readiness and the metrics address', () => {
  const c = (id: string, status: ConnectionSummary['status'], demo = false): ConnectionSummary =>
    ({
      id,
      status,
      lastError: status === 'Connected' ? null : { message: 'the relay said no', at: 't' },
      ...(demo ? { demo } : {}),
    }) as ConnectionSummary;

  it('is ready when every configured connection is Connected, with reasons otherwise', () => {
    expect(readiness([c('a/x', 'Connected'), c('a/y', 'Connected')])).toEqual({ ready: true, reasons: [] });
    expect(readiness([c('a/x', 'Connected'), c('a/y', 'Unauthorized')])).toEqual({
      ready: false,
      reasons: ['a/y: Unauthorized (the relay said no)'],
    });
    expect(readiness([])).toEqual({ ready: false, reasons: ['no Hybrid Connections are configured'] });
    expect(readiness([c('demo/demo-hc', 'NotConnected', true), c('a/x', 'Connected')]).ready).toBe(true);
    expect(readiness([c('a/x', 'Connected')], true).ready).toBe(false);
  });

  it('reads host:port, [v6]:port and a bare port (loopback)', () => {
    expect(parseStatusAddress('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseStatusAddress('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
    expect(parseStatusAddress('0.0.0.0:9464')).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(parseStatusAddress('9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(() => parseStatusAddress('host:port')).toThrow(/host:port/);
    expect(() => parseStatusAddress('1.2.3.4:70000')).toThrow();
  });
});

describe('HCM_CONNECTION_STRINGS', () => {
  it('is one connection string per line, with comments, blank lines and an optional endpoint', () => {
    const text = `# orders\n${cs('orders')}\n\n  ${cs('legacy')}   10.0.0.4:8080  \n`;
    expect(parseConnectionStringList(text, 'HCM_CONNECTION_STRINGS')).toEqual([
      { line: 2, connectionString: cs('orders') },
      { line: 4, connectionString: cs('legacy'), endpoint: '10.0.0.4:8080' },
    ]);
  });

  it('names the line of a mistake, never its text', () => {
    const broken = `${cs('a')}\nEndpoint=sb://x.servicebus.windows.net/;SharedAccessKey=${KEY}\n`;
    expect(() => parseConnectionStringList(broken, 'HCM_CONNECTION_STRINGS')).toThrow(/^HCM_CONNECTION_STRINGS, line 2: /);
    try {
      parseConnectionStringList(broken, 'X');
    } catch (err) {
      expect((err as Error).message).not.toContain(KEY);
    }
    expect(() => parseConnectionStringList(`${cs('a')}\n${cs('a')}\n`, 'X')).toThrow(/lines 1 and 2 are both for contoso\/a/);
    expect(() => parseConnectionStringList(`${cs('a')} db:1 extra`, 'X')).toThrow(
      /line 1: expected a connection string and at most an endpoint/,
    );
  });
});

describe('the fleet file (hcm export / hcm import)', () => {
  const stored: StoredConnection[] = [
    {
      id: 'contoso/orders',
      name: 'orders',
      namespace: 'contoso',
      serviceBusAddress: 'sb://contoso.servicebus.windows.net/',
      keyName: 'defaultListener',
      endpoint: 'db:5432',
      endpointSource: 'metadata',
      addedAt: '2026-01-01T00:00:00.000Z',
      connectionString: cs('orders'),
    },
  ];

  it('carries keys only when asked, and is written 0600 either way', () => {
    const dir = scratch();
    writeFleetFile(join(dir, 'without.json'), buildFleetFile(stored, false));
    writeFleetFile(join(dir, 'with.json'), buildFleetFile(stored, true));
    for (const f of ['without.json', 'with.json']) expect(lstatSync(join(dir, f)).mode & 0o777).toBe(0o600);
    const without = readFileSync(join(dir, 'without.json'), 'utf8');
    expect(without).not.toContain(KEY);
    expect(without).not.toContain('SharedAccessKey');
    expect(readFileSync(join(dir, 'with.json'), 'utf8')).toContain(KEY);
    const back = parseFleetFile(readFileSync(join(dir, 'with.json'), 'utf8'), 'with.json');
    expect(back.connections[0]).toMatchObject({ id: 'contoso/orders', endpoint: 'db:5432', connectionString: cs('orders') });
    expect(back.withKeys).toBe(true);
  });

  it('is checked whole, and a problem names the field, not the text', () => {
    expect(() => parseFleetFile('{', 'f.json')).toThrow(/f\.json is not JSON/);
    expect(() => parseFleetFile('{"connections":[]}', 'f.json')).toThrow(/is not an HCM export/);
    const file = buildFleetFile(stored, true);
    const bad = { ...file, connections: [{ ...file.connections[0], endpointSource: 'guess' }] };
    let message = '';
    try {
      parseFleetFile(JSON.stringify(bad), 'f.json');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^f\.json does not match the export format \(connections\.0\.endpointSource: /);
    expect(message).not.toContain(KEY);
    expect(() => parseFleetFile(JSON.stringify({ ...file, version: 9 }), 'f.json')).toThrow(/newer HCM/);
    const twice = { ...file, connections: [file.connections[0], { ...file.connections[0], id: 'Contoso/Orders' }] };
    expect(() => parseFleetFile(JSON.stringify(twice), 'f.json')).toThrow(/lists Contoso\/Orders twice/);
  });
});

describe('the systemd unit', () => {
  const base = { scope: 'system' as const, graceSeconds: 30, user: 'open-hcm', adminGroup: 'hcm-admins', admins: [] };

  it("quotes ExecStart by systemd's rules and escapes %", () => {
    const unit = systemdUnit({ ...base, command: ['/opt/my node/node', '/opt/hcm/100%/main.js'] });
    expect(unit).toContain('ExecStart="/opt/my node/node" /opt/hcm/100%%/main.js run --grace 30 --hup-takeover\n');
  });

  it('keeps /home readable when hcm is installed there (npm link from a checkout)', () => {
    expect(systemdUnit({ ...base, command: ['/usr/bin/node', '/usr/lib/node_modules/open-hcm/dist/cli/main.js'] })).toContain(
      'ProtectHome=yes\n',
    );
    expect(systemdUnit({ ...base, command: ['/usr/bin/node', '/home/ann/open-hcm/dist/cli/main.js'] })).toContain(
      'ProtectHome=read-only\n',
    );
  });
});
