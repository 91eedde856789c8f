import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import type { ICachePlugin, TokenCacheContext } from '@azure/msal-node';
import { writeAtomic } from '../config-store.js';

/**
 * Where MSAL keeps the signed-in account and its tokens between runs: one file, mode 0600,
 * encrypted when the host can (the desktop app passes Electron's safeStorage, which uses the OS
 * keychain); headless hosts without a keyring keep it unencrypted and say so plainly.
 */

export interface CacheEncryption {
  encrypt(data: Buffer): Buffer;
  decrypt(data: Buffer): Buffer;
  /** For people: what protects the file, e.g. "encrypted with the macOS Keychain". */
  description: string;
}

export class FileTokenCache implements ICachePlugin {
  constructor(
    readonly file: string,
    private readonly encryption?: CacheEncryption,
  ) {}

  /** Said in `hcm account` and the UI: how the tokens are kept on this machine. */
  get storage(): string {
    return this.encryption
      ? `${this.file} (${this.encryption.description})`
      : `${this.file} (readable only by you, mode 0600; not encrypted: no OS keyring is available to HCM here)`;
  }

  async beforeCacheAccess(context: TokenCacheContext): Promise<void> {
    if (!existsSync(this.file)) return;
    let data: Buffer;
    try {
      data = readFileSync(this.file);
      if (this.encryption) data = this.encryption.decrypt(data);
    } catch {
      return; // unreadable (another machine's keychain, say): as if signed out
    }
    context.tokenCache.deserialize(data.toString('utf8'));
  }

  async afterCacheAccess(context: TokenCacheContext): Promise<void> {
    if (!context.cacheHasChanged) return;
    const text = context.tokenCache.serialize();
    const data = this.encryption ? this.encryption.encrypt(Buffer.from(text)) : Buffer.from(text);
    writeAtomic(this.file, data);
  }

  /** Signing out removes the tokens from disk, not only from memory. */
  remove(): void {
    try {
      unlinkSync(this.file);
    } catch {
      /* not there */
    }
  }
}
