import { join } from 'node:path';
import type { TransportOptions } from '../../relay/transport.js';
import type { AzureSignInOptions, AzureSignInStarted, AzureState } from '../../shared/api.js';
import { HcmError, errorMessage } from '../../shared/errors.js';
import { type AzureSettings, azureSettings, resolveCloud } from './clouds.js';
import { type Inventory, type InventoryProgress, listAzureHybridConnections } from './relay-inventory.js';
import { AzureAuth, type SignedInAccount } from './sign-in.js';
import { type CacheEncryption, FileTokenCache } from './token-cache.js';

/**
 * The host's Azure sign-in: which cloud and tenant, who is signed in, a sign-in waiting for the
 * user, and the last error. Kept by the service (so the desktop app, the browser UI, `hcm run`
 * and the CLI through it share one account), reported through the `azure` event.
 */

export interface AzureSessionOptions {
  configDir: string;
  /** How Azure is reached now (the agent's CA and proxy; read at each use, so a proxy change applies). */
  transport: () => TransportOptions | undefined;
  /** Encrypts the token cache (the desktop app passes Electron's safeStorage). */
  encryption?: CacheEncryption;
  /** Opens the sign-in page where the host can (desktop: the system browser); else the caller opens the URL it gets. */
  openBrowser?: (url: string) => Promise<void>;
  savedSettings: () => Partial<AzureSettings> | undefined;
  saveSettings: (settings: Partial<AzureSettings>) => Promise<void>;
  onState: (state: AzureState) => void;
  log: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
}

/** A sign-in nobody finishes is given up after this long (the page can be opened again). */
const SIGN_IN_TIMEOUT_MS = 10 * 60_000;

export class AzureSession {
  private auth: AzureAuth | undefined;
  private authKey = '';
  private signingIn = false;
  private lastError: string | null = null;
  private account: SignedInAccount | null | undefined;

  constructor(private readonly options: AzureSessionOptions) {}

  settings(): AzureSettings {
    return azureSettings(this.options.savedSettings());
  }

  /** The MSAL client for the current settings (made again when they change). */
  current(): AzureAuth {
    const settings = this.settings();
    const key = JSON.stringify([settings, this.options.transport()?.proxy ?? null]);
    if (!this.auth || key !== this.authKey) {
      const file = join(this.options.configDir, this.options.encryption ? 'azure-tokens.bin' : 'azure-tokens.json');
      this.auth = new AzureAuth(settings, new FileTokenCache(file, this.options.encryption), this.options.transport(), (m) =>
        this.options.log('debug', m),
      );
      this.authKey = key;
      this.account = undefined;
    }
    return this.auth;
  }

  async state(): Promise<AzureState> {
    const settings = this.settings();
    let label: string;
    let storage = '';
    try {
      const auth = this.current();
      label = auth.cloud.cloud.label;
      storage = auth.cache.storage;
      if (this.account === undefined) this.account = await auth.account();
    } catch (err) {
      label = settings.cloud;
      this.lastError ??= errorMessage(err);
      this.account = null;
    }
    return {
      cloud: settings.cloud,
      cloudLabel: label,
      tenant: settings.tenant,
      account: this.account ? { username: this.account.username, name: this.account.name, tenantId: this.account.tenantId } : null,
      signingIn: this.signingIn,
      lastError: this.lastError,
      tokenStorage: storage,
    };
  }

  /** The signed-in client, or an error saying to sign in. */
  async signedIn(): Promise<AzureAuth> {
    const auth = this.current();
    if (!(await auth.account()))
      throw new HcmError('E_UNAUTHORIZED', 'not signed in to Azure; sign in first (hcm login, or "Sign in" in the app)');
    return auth;
  }

  async beginSignIn(request: AzureSignInOptions): Promise<AzureSignInStarted> {
    if (this.signingIn) throw new HcmError('E_INVALID', 'a sign-in is already waiting for you; finish it or wait for it to time out');
    if (request.cloud !== undefined || request.tenant !== undefined) {
      const saved = this.options.savedSettings() ?? {};
      const next = { ...saved, ...(request.cloud ? { cloud: request.cloud } : {}), ...(request.tenant ? { tenant: request.tenant } : {}) };
      resolveCloud(azureSettings(next)); // refuse a cloud that cannot work before saving it
      await this.options.saveSettings(next);
    }
    const auth = this.current();
    this.signingIn = true;
    this.lastError = null;
    this.emit();
    return new Promise<AzureSignInStarted>((resolve, reject) => {
      let shown = false;
      const timer = setTimeout(
        () => this.finish(new HcmError('E_TIMEOUT', 'the sign-in was not completed within 10 minutes')),
        SIGN_IN_TIMEOUT_MS,
      );
      timer.unref();
      const flow =
        request.method === 'device-code'
          ? auth.signInDeviceCode((prompt) => {
              shown = true;
              this.options.log('info', `Azure sign-in: waiting for the code to be entered at ${prompt.verificationUri}`);
              resolve({ deviceCode: prompt });
            })
          : auth.signInInteractive(async (url) => {
              shown = true;
              if (this.options.openBrowser) await this.options.openBrowser(url);
              resolve({ url });
            });
      flow.then(
        (account) => {
          clearTimeout(timer);
          this.finish(account);
        },
        (err: unknown) => {
          clearTimeout(timer);
          this.finish(err);
          if (!shown) reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  async signOut(): Promise<void> {
    const who = this.account?.username;
    await this.current().signOut();
    this.account = null;
    this.lastError = null;
    this.options.log('info', `signed out of Azure${who ? ` (${who})` : ''}; the tokens were removed from this machine`);
    this.emit();
  }

  async list(onProgress: (p: InventoryProgress) => void): Promise<Inventory> {
    const auth = await this.signedIn();
    return listAzureHybridConnections(auth, { transport: this.options.transport(), onProgress });
  }

  private finish(result: SignedInAccount | unknown): void {
    if (!this.signingIn) return;
    this.signingIn = false;
    if (result && typeof result === 'object' && 'homeAccountId' in result) {
      this.account = result as SignedInAccount;
      this.lastError = null;
      this.options.log('info', `signed in to Azure as ${this.account.username} (${this.current().cloud.cloud.label})`);
    } else {
      this.lastError = errorMessage(result);
      this.options.log('warn', `Azure sign-in did not complete: ${this.lastError}`);
    }
    this.emit();
  }

  private emit(): void {
    void this.state().then(this.options.onState, () => undefined);
  }
}
