import http from 'node:http';
import https from 'node:https';
import type { EmulatorProcess } from './emulator.js';

/**
 * The emulator's Entra ID pages walked over HTTP as a person would in a browser: enter a device
 * code, sign in, consent; and ARM calls as an admin makes them in the portal. For CLI and emulator
 * tests (the UI tests drive the same pages in Chromium).
 */

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function send(url: string, ca: string, method: string, body: string | undefined, headers: Record<string, string>): Promise<Answer> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(target, { method, ca, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** One HTTP(S) request as a browser would make it (the CA `ca` trusted, redirects not followed); a form is POSTed. */
export function fetchPage(url: string, ca: string, form?: Record<string, string>, headers: Record<string, string> = {}): Promise<Answer> {
  const body = form ? new URLSearchParams(form).toString() : undefined;
  return send(url, ca, form ? 'POST' : 'GET', body, {
    ...(body ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
    ...headers,
  });
}

/** Undoes the HTML escaping of the emulator's pages (&#39; and the like, &amp;). */
export const unescapeHtml = (s: string) => s.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&');

/** The first form of a page: where it posts (a path made absolute on `origin`) and its hidden fields. */
export function formOf(page: Answer, origin: string): { action: string; fields: Record<string, string> } {
  const form = /<form method="post" action="([^"]*)">/.exec(page.body);
  if (!form) throw new Error(`no form in the page (HTTP ${page.status}):\n${page.body.slice(0, 2000)}`);
  const fields: Record<string, string> = {};
  for (const m of page.body.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g))
    fields[unescapeHtml(m[1]!)] = unescapeHtml(m[2]!);
  const action = unescapeHtml(form[1]!);
  return { action: action.startsWith('/') ? `${origin}${action}` : action, fields };
}

/** Enters the code on the device page, signs in, and accepts consent if asked; resolves with the last page. */
export async function completeDeviceCode(
  verificationUri: string,
  userCode: string,
  username: string,
  password: string,
  ca: string,
): Promise<string> {
  const origin = new URL(verificationUri).origin;
  const signInPage = await fetchPage(verificationUri, ca, { otc: userCode });
  const login = formOf(signInPage, origin);
  let next = await fetchPage(login.action, ca, { ...login.fields, username, password, decision: 'signin' });
  if (next.body.includes('Permissions requested')) {
    const consent = formOf(next, origin);
    next = await fetchPage(consent.action, ca, { ...consent.fields, decision: 'accept' });
  }
  return next.body;
}

/**
 * An ARM POST as the test's own admin (username/password grant) against the emulator: what someone
 * does in the portal, e.g. regenerating a key. Resolves with the HTTP status.
 */
export async function armAsAdmin(
  emulator: EmulatorProcess,
  username: string,
  password: string,
  path: string,
  body: unknown,
): Promise<number> {
  const azure = emulator.azure!;
  const arm = azure.arm.replace(/\/$/, '');
  const token = await fetchPage(`${azure.authority}/oauth2/v2.0/token`, emulator.caPem!, {
    grant_type: 'password',
    client_id: azure.clientId,
    scope: `${arm}/.default openid offline_access`,
    username,
    password,
  });
  const { access_token } = JSON.parse(token.body) as { access_token: string };
  const text = JSON.stringify(body);
  const r = await send(`${arm}${path}`, emulator.caPem!, 'POST', text, {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
    Authorization: `Bearer ${access_token}`,
  });
  return r.status;
}
