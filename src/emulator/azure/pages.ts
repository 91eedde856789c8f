/**
 * The emulator's Entra ID pages: sign-in, consent, device code entry, messages, and the
 * form_post answer. Plain server-rendered HTML: every value is escaped, there is no inline script
 * or style (the pages are served with a CSP that forbids them, http.ts), and every form posts
 * back here except the form_post answer, which posts to the client's loopback redirect URI.
 */

export const STYLESHEET_PATH = '/$entra/style.css';
export const FORM_POST_SCRIPT_PATH = '/$entra/form-post.js';

export const STYLESHEET = `body{font-family:"Segoe UI",system-ui,sans-serif;background:#f2f2f2;margin:0;color:#1b1b1b}
main{max-width:440px;margin:8vh auto;background:#fff;padding:44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
h1{font-size:1.5rem;font-weight:600;margin:0 0 16px}
.brand{font-size:.9rem;color:#5e5e5e;margin-bottom:20px}
label{display:block;margin:12px 0 4px}
input[type=text],input[type=email],input[type=password]{width:100%;box-sizing:border-box;padding:6px 0;border:0;border-bottom:1px solid #666;font-size:1rem}
.error{color:#e81123;margin:12px 0}
.buttons{margin-top:24px;display:flex;gap:8px;justify-content:flex-end}
button{min-width:108px;padding:6px 12px;font-size:1rem;border:1px solid #0067b8;background:#0067b8;color:#fff;cursor:pointer}
button.secondary{background:#ccc;border-color:#ccc;color:#1b1b1b}
ul{padding-left:20px}
code{font-size:1rem}
`;

/** Submits the form_post answer the moment the page loads; without script the button does it. */
export const FORM_POST_SCRIPT = `document.addEventListener('DOMContentLoaded', function () { document.forms[0].submit(); });\n`;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string, script = false): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<link rel="stylesheet" href="${STYLESHEET_PATH}">`,
    script ? `<script src="${FORM_POST_SCRIPT_PATH}" defer></script>` : '',
    '</head><body><main>',
    '<div class="brand">Open HCM emulator · Microsoft Entra ID</div>',
    body,
    '</main></body></html>',
  ].join('\n');
}

function hidden(name: string, value: string): string {
  return `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;
}

export interface SignInPage {
  action: string;
  flow: string;
  appName: string;
  tenantName: string | undefined;
  username?: string | undefined;
  error?: string | undefined;
  /** Device code sign-ins can be cancelled here (the device then gets authorization_declined). */
  cancellable: boolean;
}

export function signInPage(p: SignInPage): string {
  return page(
    'Sign in to your account',
    [
      '<h1>Sign in</h1>',
      `<p>to continue to ${escapeHtml(p.appName)}${p.tenantName ? ` (${escapeHtml(p.tenantName)})` : ''}</p>`,
      p.error ? `<p class="error" role="alert">${escapeHtml(p.error)}</p>` : '',
      `<form method="post" action="${escapeHtml(p.action)}">`,
      hidden('flow', p.flow),
      '<label for="username">Email, phone, or Skype</label>',
      `<input type="email" id="username" name="username" autocomplete="username" required value="${escapeHtml(p.username ?? '')}">`,
      '<label for="password">Password</label>',
      '<input type="password" id="password" name="password" autocomplete="current-password" required>',
      '<div class="buttons">',
      p.cancellable ? '<button type="submit" name="decision" value="cancel" class="secondary" formnovalidate>Cancel</button>' : '',
      '<button type="submit" name="decision" value="signin">Sign in</button>',
      '</div></form>',
    ].join('\n'),
  );
}

export interface ConsentPage {
  action: string;
  flow: string;
  appName: string;
  clientId: string;
  username: string;
  permissions: string[];
}

export function consentPage(p: ConsentPage): string {
  return page(
    'Permissions requested',
    [
      `<p>${escapeHtml(p.username)}</p>`,
      '<h1>Permissions requested</h1>',
      `<p><strong>${escapeHtml(p.appName)}</strong> (${escapeHtml(p.clientId)}) would like to:</p>`,
      `<ul>${p.permissions.map((x) => `<li>${escapeHtml(x)}</li>`).join('')}</ul>`,
      '<p>Accepting these permissions means that you allow this app to use your data as specified in their terms of service and privacy statement.</p>',
      `<form method="post" action="${escapeHtml(p.action)}">`,
      hidden('flow', p.flow),
      '<div class="buttons">',
      '<button type="submit" name="decision" value="decline" class="secondary">Cancel</button>',
      '<button type="submit" name="decision" value="accept">Accept</button>',
      '</div></form>',
    ].join('\n'),
  );
}

export function deviceCodeEntryPage(action: string, error?: string): string {
  return page(
    'Enter code',
    [
      '<h1>Enter code</h1>',
      '<p>Enter the code displayed on your app or device.</p>',
      error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : '',
      `<form method="post" action="${escapeHtml(action)}">`,
      '<label for="otc">Code</label>',
      '<input type="text" id="otc" name="otc" autocomplete="off" autocapitalize="characters" required maxlength="32">',
      '<div class="buttons"><button type="submit">Next</button></div>',
      '</form>',
    ].join('\n'),
  );
}

export function messagePage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>`);
}

/** The form_post answer: a form to the redirect URI, submitted by the external script. */
export function formPostPage(target: string, fields: Record<string, string>): string {
  return page(
    'Working...',
    [
      '<h1>Signing you in</h1>',
      `<form method="post" action="${escapeHtml(target)}">`,
      ...Object.entries(fields).map(([k, v]) => hidden(k, v)),
      '<noscript><p>Script is disabled. Press Continue to finish signing in.</p></noscript>',
      '<div class="buttons"><button type="submit">Continue</button></div>',
      '</form>',
    ].join('\n'),
    true,
  );
}
