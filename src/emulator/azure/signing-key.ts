import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { type SigningKey, signingKeyFromPem } from './jwt.js';

/**
 * The emulator's token signing key: RSA 2048 with a self-signed certificate, kept in the state
 * directory next to the CA so tokens stay valid across restarts (refresh tokens included). Made
 * on first use, not at start, because RSA key generation takes a moment.
 */

const KEY_FILE = 'entra-signing-key.pem';
const CERT_FILE = 'entra-signing-cert.pem';

export async function loadSigningKey(stateDir: string): Promise<SigningKey> {
  const keyPath = join(stateDir, KEY_FILE);
  const certPath = join(stateDir, CERT_FILE);
  if (existsSync(keyPath) && existsSync(certPath)) {
    return signingKeyFromPem(readFileSync(keyPath, 'utf8'), readFileSync(certPath, 'utf8'));
  }
  const made = await generate([{ name: 'commonName', value: 'Open HCM Emulator token signing' }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 5 * 365 * 86400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
    ],
  });
  // Written aside and renamed, so a second emulator on the same state directory never reads half a key.
  writeFileSync(`${keyPath}.tmp`, made.private, { mode: 0o600 });
  writeFileSync(`${certPath}.tmp`, made.cert, { mode: 0o644 });
  renameSync(`${keyPath}.tmp`, keyPath);
  renameSync(`${certPath}.tmp`, certPath);
  return signingKeyFromPem(made.private, made.cert);
}
