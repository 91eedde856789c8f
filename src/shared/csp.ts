/**
 * The Content-Security-Policy of the HCM UI, the same under Electron and the browser host;
 * only where the page may connect differs (Electron: nowhere; browser: its own WebSocket).
 */

/** sha256 of the empty string, as CSP writes it. */
export const EMPTY_STYLE_HASH = 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';

export function uiContentSecurityPolicy(connectSrc: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    // Fluent's style engine creates EMPTY <style> elements and fills them through the CSSOM
    // (insertRule, which CSP does not govern). Allowing only the hash of the empty string lets
    // those in while any <style> with content stays blocked: no 'unsafe-inline'.
    `style-src 'self' '${EMPTY_STYLE_HASH}'`,
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connectSrc}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}
