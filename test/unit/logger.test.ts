import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Logger, redactSecrets } from '../../src/core/logger.js';

describe('redactSecrets', () => {
  it('removes keys, signatures and tokens wherever they appear', () => {
    const text =
      'failed: Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=abc123+/=;EntityPath=h token SharedAccessSignature sr=http%3A%2F%2Fx&sig=S1G%3D&se=1&skn=a url wss://x/$hc/h?sb-hc-token=SharedAccessSignature%20sr%3Dx&sb-hc-id=1';
    const out = redactSecrets(text);
    expect(out).not.toMatch(/abc123|S1G|SharedAccessSignature%20sr/);
    expect(out).toContain('SharedAccessKeyName=a');
    expect(out).toContain('SharedAccessKey=<redacted>');
    expect(out).toContain('sb-hc-token=<redacted>');
  });

  it('finds each kind of secret on its own, in any case (a line without one is left as it is)', () => {
    const alone: Array<[string, string]> = [
      ['header: sharedaccesssignature SR=x&SIG=abc123', 'abc123'],
      ['string: SHAREDACCESSKEY = abc123;', 'abc123'],
      ['query: SharedAccessSignature=abc123', 'abc123'],
      ['url: wss://h/$hc/e?SB-HC-TOKEN=abc123', 'abc123'],
      ['url: https://h/?a=1&Sig=abc123', 'abc123'],
    ];
    for (const [text, secret] of alone) {
      const out = redactSecrets(text);
      expect(out, text).not.toContain(secret);
      expect(out, text).toContain('<redacted>');
    }
    const plain = 'connection from 10.0.0.1:5000 ended after 1.0 s: 10 B to db:5432, 20 B back (closed)';
    expect(redactSecrets(plain)).toBe(plain);
  });
});

describe('Logger', () => {
  it('keeps a ring of recent entries with sequence numbers and filters by level', () => {
    const log = new Logger({ level: 'info', ringSize: 3 });
    log.debug('hidden');
    for (let i = 1; i <= 5; i++) log.info(`line ${i}`, i % 2 ? 'ns/a' : undefined);
    const entries = log.entries();
    expect(entries.map((e) => e.message)).toEqual(['line 3', 'line 4', 'line 5']);
    expect(entries[0]).toMatchObject({ seq: 3, level: 'info', connection: 'ns/a' });
    expect(log.entries(4).map((e) => e.message)).toEqual(['line 5']);
  });

  it('rotates files at the size limit and keeps the newest lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hcm-log-'));
    const log = new Logger({ dir, maxFileBytes: 2000, maxFiles: 3 });
    for (let i = 0; i < 200; i++) log.info(`message number ${i} SharedAccessKey=topsecret`);
    await log.close();
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['hcm.log', 'hcm.log.1', 'hcm.log.2']);
    const newest = readFileSync(join(dir, 'hcm.log'), 'utf8');
    expect(newest).toContain('message number 199');
    expect(newest).not.toContain('topsecret');
  });
});
