/** Progress lines on stderr, so stdout carries only the final table. */
const started = Date.now();
export function log(message: string): void {
  const s = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[${s}s] ${message}\n`);
}
