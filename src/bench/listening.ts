import { readFileSync } from 'node:fs';

/**
 * Whether some socket listens on a local TCP port, read from /proc/net/tcp{,6}. Probing by
 * connecting would open a real connection through socat chains to the server behind them.
 */
export function isListening(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN.
      if (cols[1]?.endsWith(`:${hex}`) && cols[3] === '0A') return true;
    }
  }
  return false;
}

export async function waitListening(port: number, what: string, timeoutMs = 15_000, stillAlive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!isListening(port)) {
    if (!stillAlive()) throw new Error(`${what} exited before listening on port ${port}`);
    if (Date.now() > deadline) throw new Error(`${what} is not listening on port ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 30));
  }
}
