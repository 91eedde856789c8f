import net from 'node:net';

/**
 * Client side of the idle-scale test: opens COUNT connections to 127.0.0.1:PORT, at most
 * PARALLEL connecting at once, and holds them idle until told to stop (IPC "close") or killed.
 * Reports {opened, failed} over IPC on "status". Usage: hold-connections.js PORT COUNT PARALLEL.
 */
const port = Number(process.argv[2]);
const count = Number(process.argv[3]);
const parallel = Number(process.argv[4] ?? 64);
const held: net.Socket[] = [];
let opened = 0;
let failed = 0;
let closedEarly = 0;
let lastError = '';

function openOne(): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      opened++;
      held.push(s);
      resolve();
    });
    s.on('error', (err) => {
      lastError = err.message;
      if (!s.connecting) return;
      failed++;
      resolve();
    });
    s.on('close', () => {
      if (!s.connecting) closedEarly++;
    });
  });
}

async function worker(share: number): Promise<void> {
  for (let i = 0; i < share; i++) await openOne();
}

const shares = Array.from({ length: parallel }, (_, i) => Math.floor(count / parallel) + (i < count % parallel ? 1 : 0));
void Promise.all(shares.map(worker)).then(() => process.send?.({ done: true, opened, failed }));

process.on('message', (m) => {
  if (m === 'status') process.send?.({ opened, failed, closedEarly, lastError });
  if (m === 'close') {
    for (const s of held) s.destroy();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
