import http from 'node:http';
import https from 'node:https';

/**
 * The emulator's Entra ID pages walked over HTTP as a person would in a browser: enter a device
 * code, sign in, consent. For CLI tests (the UI tests drive the same pages in Chromium).
 */

interface Page {
  status: number;
  body: string;
}

function request(url: string, ca: string, form?: Record<string, string>): Promise<Page> {
  const body = form ? new URLSearchParams(form).toString() : undefined;
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      target,
      { method: form ? 'POST' : 'GET', ca, headers: body ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {} },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const unescape = (s: string) => s.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&');

function form(page: Page, origin: string): { action: string; fields: Record<string, string> } {
  const m = /<form method="post" action="([^"]*)">/.exec(page.body);
  if (!m) throw new Error(`no form on the page (HTTP ${page.status}): ${page.body.slice(0, 500)}`);
  const fields: Record<string, string> = {};
  for (const f of page.body.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) fields[unescape(f[1]!)] = unescape(f[2]!);
  const action = unescape(m[1]!);
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
  const signInPage = await request(verificationUri, ca, { otc: userCode });
  const login = form(signInPage, origin);
  let next = await request(login.action, ca, { ...login.fields, username, password, decision: 'signin' });
  if (next.body.includes('Permissions requested')) {
    const consent = form(next, origin);
    next = await request(consent.action, ca, { ...consent.fields, decision: 'accept' });
  }
  return next.body;
}
