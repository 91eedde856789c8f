import type { IncomingMessage } from 'node:http';
import { type Right, type SasRule, parseSasToken, verifySasToken } from '../relay/sas.js';
import { type EmulatorConfig, type EmulatorHybridConnection, type EmulatorRule, namespaceOf } from './config.js';
import { trackingId } from './handshake.js';

/**
 * SAS authorization of every request the emulator serves (listen, connect, the management GET,
 * the admin hooks), verified with the same sas.ts as the agent. A Hybrid Connection's own rules
 * and its namespace's rules both apply.
 */

/** The HTTP status and text a refused request is answered with. */
export type Denial = [status: number, text: string];

export class Authorizer {
  /** Expiry (seconds) of tokens already accepted, by right, entity, host and token. */
  private readonly accepted = new Map<string, number>();

  constructor(
    private readonly config: () => EmulatorConfig,
    private readonly graceSeconds: number,
    /** The relay's clock (ms): tokens are judged by it, so a relay whose clock differs refuses them as Azure would. */
    private readonly now: () => number = Date.now,
  ) {}

  /** undefined when authorized, otherwise the HTTP status and text to answer with. */
  authorize(req: IncomingMessage, token: string | null | undefined, hc: EmulatorHybridConnection, right: Right): Denial | undefined {
    if (!token) return [401, `MissingToken: The request does not contain a token. ${trackingId()}`];
    // Senders reuse a token for many connections; a token already accepted for this entity and
    // right is accepted again until it expires (the cache is dropped when the config changes).
    const cacheKey = `${right}|${hc.name.toLowerCase()}|${hostOf(req)}|${token}`;
    const cachedUntil = this.accepted.get(cacheKey);
    if (cachedUntil !== undefined && cachedUntil + this.graceSeconds >= this.now() / 1000) return undefined;
    // A token is for the namespace's own host (<namespace>.localhost). A request that reaches the
    // emulator by a plain name (localhost, 127.0.0.1) names no namespace: the namespace's host or
    // that plain name are both accepted as the audience then.
    const host = hostOf(req);
    const audiences = /\.localhost$/i.test(host) ? [host] : [`${hc.namespace.toLowerCase()}.localhost`, host];
    let result = verifySasToken({
      token,
      host: audiences[0]!,
      entityPath: hc.name,
      requiredRight: right,
      rules: this.rulesFor(hc),
      graceSeconds: this.graceSeconds,
      nowSeconds: Math.floor(this.now() / 1000),
    });
    if (!result.ok && result.reason === 'wrong-audience' && audiences[1]) {
      result = verifySasToken({
        token,
        host: audiences[1],
        entityPath: hc.name,
        requiredRight: right,
        rules: this.rulesFor(hc),
        graceSeconds: this.graceSeconds,
        nowSeconds: Math.floor(this.now() / 1000),
      });
    }
    if (result.ok) {
      if (this.accepted.size >= 1000) this.accepted.clear();
      this.accepted.set(cacheKey, result.expiresAt);
      return undefined;
    }
    const status = result.reason === 'insufficient-rights' || result.reason === 'wrong-audience' ? 403 : 401;
    const prefix = status === 403 ? 'Unauthorized access' : 'InvalidSignature';
    return [status, `${prefix}: ${result.message}. ${trackingId()}`];
  }

  /** Forgets the tokens accepted so far (keys may have been rotated). */
  forget(): void {
    this.accepted.clear();
  }

  private rulesFor(hc: EmulatorHybridConnection): SasRule[] {
    return [...hc.rules, ...namespaceOf(this.config(), hc).rules].map((r: EmulatorRule) => ({
      name: r.name,
      rights: r.rights,
      keys: r.keys,
    }));
  }
}

/** The token of a listen or connect upgrade: the ServiceBusAuthorization header, else sb-hc-token. */
export function tokenFrom(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers.servicebusauthorization;
  if (typeof header === 'string' && header) return header;
  return url.searchParams.get('sb-hc-token') ?? undefined;
}

/** The token of a plain HTTP request (management GET, admin hooks). */
export function httpToken(req: IncomingMessage): string | undefined {
  const token = req.headers.authorization ?? req.headers.servicebusauthorization;
  return typeof token === 'string' ? token : undefined;
}

/** Only called after verifySasToken accepted the token, so it parses. */
export function tokenExpiry(token: string): number {
  return parseSasToken(token).expiresAt;
}

function hostOf(req: IncomingMessage): string {
  const host = req.headers.host ?? 'localhost';
  return host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
}
