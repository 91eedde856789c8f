import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';

/**
 * The emulator's own CA and server certificate. The CA is kept in the state directory and reused,
 * so clients that trust it keep working across restarts; clients trust it explicitly (its file),
 * never by disabling verification.
 */
export interface EmulatorCertificates {
  caPath: string;
  caCert: string;
  key: string;
  cert: string;
}

const SERVER_NAMES = ['localhost', '*.localhost'];
const SERVER_IPS = ['127.0.0.1', '::1'];

export async function ensureCertificates(stateDir: string, extraHosts: string[] = []): Promise<EmulatorCertificates> {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const caPath = join(stateDir, 'ca.pem');
  const caKeyPath = join(stateDir, 'ca-key.pem');
  let caCert: string;
  let caKey: string;
  if (existsSync(caPath) && existsSync(caKeyPath)) {
    caCert = readFileSync(caPath, 'utf8');
    caKey = readFileSync(caKeyPath, 'utf8');
  } else {
    // A unique name per CA, so a client trusting two emulators' CAs can still build each chain.
    const ca = await generate([{ name: 'commonName', value: `Open HCM Relay Emulator CA ${randomBytes(4).toString('hex')}` }], {
      keyType: 'ec',
      algorithm: 'sha256',
      notAfterDate: new Date(Date.now() + 10 * 365 * 86400_000),
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      ],
    });
    caCert = ca.cert;
    caKey = ca.private;
    writeFileSync(caKeyPath, caKey, { mode: 0o600 });
    writeFileSync(caPath, caCert, { mode: 0o644 });
  }
  // The server certificate is cheap to make and short-lived; a fresh one per start.
  const names = [...new Set([...SERVER_NAMES, ...extraHosts.filter((h) => !/^[\d.:]+$/.test(h))])];
  const ips = [...new Set([...SERVER_IPS, ...extraHosts.filter((h) => /^[\d.:]+$/.test(h))])];
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 30 * 86400_000),
    ca: { key: caKey, cert: caCert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [...names.map((value) => ({ type: 2 as const, value })), ...ips.map((ip) => ({ type: 7 as const, ip }))],
      },
    ],
  });
  return { caPath, caCert, key: server.private, cert: server.cert };
}
