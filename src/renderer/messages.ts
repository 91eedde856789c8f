/**
 * Error text from the host, made fit to show: starts with a capital, and anything that looks
 * like a key or a signature is hidden. Parser errors may quote the piece of text they choke on,
 * and that piece can be a pasted key while the field itself is masked.
 */
const KEY_LIKE = /[A-Za-z0-9+/]{24,}={0,2}/g;
const SIGNATURE = /(sig=|SharedAccessKey=|SharedAccessSignature=)[^\s;&"']+/gi;

export function hideSecrets(text: string): string {
  return text.replace(SIGNATURE, '$1••••').replace(KEY_LIKE, (run) => (/[0-9+/]/.test(run) ? '••••' : run));
}

export function forPeople(message: string): string {
  const shown = hideSecrets(message.trim());
  return shown.charAt(0).toUpperCase() + shown.slice(1);
}
