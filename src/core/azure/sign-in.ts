import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { type AccountInfo, type AuthenticationResult, LogLevel, PublicClientApplication } from '@azure/msal-node';
import type { TransportOptions } from '../../relay/transport.js';
import { HcmError, errorMessage } from '../../shared/errors.js';
import { type AzureSettings, type ResolvedCloud, resolveCloud } from './clouds.js';
import { HttpsNetworkModule } from './https-client.js';
import type { FileTokenCache } from './token-cache.js';

/**
 * Signing in to Entra ID with MSAL as a public client: the system browser with a loopback redirect
 * (authorization code + PKCE), or a device code where no browser can open. The account and its
 * refresh token persist in the token cache, so the agent can fetch keys again later by itself.
 * Tokens never leave this module except as the ARM credential.
 */

export interface SignedInAccount {
  username: string;
  name: string | null;
  tenantId: string;
  homeAccountId: string;
}

export interface DeviceCodePrompt {
  userCode: string;
  verificationUri: string;
  message: string;
}

const SIGN_IN_PAGE = (title: string, text: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head>` +
  `<body style="font-family:system-ui,sans-serif;margin:3rem"><h1>${title}</h1><p>${text}</p></body></html>`;

export class AzureAuth {
  readonly cloud: ResolvedCloud;
  private readonly app: PublicClientApplication;

  constructor(
    readonly settings: AzureSettings,
    readonly cache: FileTokenCache,
    transport: TransportOptions = {},
    log: (message: string) => void = () => undefined,
  ) {
    this.cloud = resolveCloud(settings);
    this.app = new PublicClientApplication({
      auth: {
        clientId: settings.clientId,
        authority: this.cloud.authority,
        // Sovereign and custom clouds are not in MSAL's instance-discovery list; naming the
        // authority host as known skips discovery, as MSAL documents for such clouds.
        knownAuthorities: [this.cloud.authorityHostPort],
      },
      cache: { cachePlugin: cache },
      system: {
        networkClient: new HttpsNetworkModule(transport),
        loggerOptions: {
          // MSAL's own lines never include tokens at this level (piiLoggingEnabled stays false).
          logLevel: LogLevel.Warning,
          piiLoggingEnabled: false,
          loggerCallback: (_level, message) => log(`sign-in: ${message}`),
        },
      },
    });
  }

  async account(): Promise<SignedInAccount | null> {
    const info = await this.accountInfo();
    return info ? describe(info) : null;
  }

  /** Authorization code with PKCE: `openBrowser` shows the sign-in page; MSAL listens on loopback for the answer. */
  async signInInteractive(openBrowser: (url: string) => Promise<void>): Promise<SignedInAccount> {
    const result = await this.wrap(() =>
      this.app.acquireTokenInteractive({
        scopes: [this.cloud.armScope],
        openBrowser,
        successTemplate: SIGN_IN_PAGE('Signed in', 'You are signed in to Hybrid Connection Manager. You can close this tab.'),
        errorTemplate: SIGN_IN_PAGE(
          'Sign-in failed',
          'Hybrid Connection Manager could not sign you in: {error}. Close this tab and try again.',
        ),
      }),
    );
    return describe(result.account!);
  }

  async signInDeviceCode(onCode: (prompt: DeviceCodePrompt) => void): Promise<SignedInAccount> {
    const result = await this.wrap(() =>
      this.app.acquireTokenByDeviceCode({
        scopes: [this.cloud.armScope],
        deviceCodeCallback: (r) => onCode({ userCode: r.userCode, verificationUri: r.verificationUri, message: r.message }),
      }),
    );
    if (!result) throw new HcmError('E_UNAUTHORIZED', 'the device code sign-in was cancelled');
    return describe(result.account!);
  }

  async signOut(): Promise<void> {
    const cache = this.app.getTokenCache();
    for (const account of await cache.getAllAccounts()) await cache.removeAccount(account);
    this.cache.remove();
  }

  /** A token for ARM in `tenantId` (the home tenant when absent), from the cache or refreshed silently. */
  async armToken(tenantId?: string): Promise<AccessToken> {
    const account = await this.accountInfo();
    if (!account) throw new HcmError('E_UNAUTHORIZED', 'not signed in to Azure; sign in first (hcm login, or "Sign in" in the app)');
    // For another tenant MSAL looks its cache up by the account's tenant, so both must name it.
    const request = tenantId
      ? { account: { ...account, tenantId }, authority: `${this.cloud.cloud.authorityHost}/${tenantId}`, scopes: [this.cloud.armScope] }
      : { account, scopes: [this.cloud.armScope] };
    const result = await this.wrap(() => this.app.acquireTokenSilent(request));
    return { token: result.accessToken, expiresOnTimestamp: result.expiresOn?.getTime() ?? Date.now() + 5 * 60_000 };
  }

  /** The credential ARM clients use (@azure/core-auth TokenCredential). */
  credential(tenantId?: string): TokenCredential {
    return { getToken: (_scopes: string | string[], _options?: GetTokenOptions) => this.armToken(tenantId) };
  }

  private async accountInfo(): Promise<AccountInfo | null> {
    const accounts = await this.app.getTokenCache().getAllAccounts();
    return accounts[0] ?? null;
  }

  /** MSAL's errors carry Entra's code and text: keep those (they are for people), drop the rest. */
  private async wrap<T extends AuthenticationResult | null>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      const code = (err as { errorCode?: string }).errorCode;
      const text = (err as { errorMessage?: string }).errorMessage || errorMessage(err);
      if (code === 'interaction_required' || code === 'invalid_grant' || code === 'no_tokens_found') {
        throw new HcmError('E_UNAUTHORIZED', `Azure needs you to sign in again (${code})`, { cause: err });
      }
      throw new HcmError('E_UNAUTHORIZED', `Azure sign-in failed${code ? ` (${code})` : ''}: ${firstLine(text)}`, { cause: err });
    }
  }
}

function describe(info: AccountInfo): SignedInAccount {
  return { username: info.username, name: info.name ?? null, tenantId: info.tenantId, homeAccountId: info.homeAccountId };
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
