/**
 * Checks a hand-typed endpoint (`host:port`) before it is sent, for Hybrid Connections whose
 * metadata names none. Returns a sentence saying what is wrong, or null when it looks right.
 * The host decides for real; this only gives the person an answer while typing.
 */
export function endpointProblem(value: string): string | null {
  const text = value.trim();
  if (text === '') return 'Enter the endpoint as host:port, for example db.internal:5432.';
  const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]/]+):(\d+)$/.exec(text);
  if (!match) {
    if (!text.includes(':') || text.endsWith(':')) return 'Add the port after a colon, for example db.internal:5432.';
    if (/^[0-9a-fA-F:]+:[0-9a-fA-F:]*$/.test(text)) return 'Put an IPv6 address in brackets, for example [::1]:5432.';
    return 'Use host:port, for example db.internal:5432 (no scheme, path or spaces).';
  }
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return 'The port must be from 1 to 65535.';
  return null;
}
