import net from 'node:net';

/**
 * Endpoint for the slow-consumer test: reads at most RATE bytes per second (a token bucket
 * refilled every 100 ms; the socket is paused while it is empty), so everything the client
 * pushes faster piles up in the kernel and the relay. Usage: slow-server.js PORT RATE.
 * Answers "received" over IPC with the bytes read so far.
 */
const port = Number(process.argv[2] ?? 0);
const rate = Number(process.argv[3] ?? 1024 * 1024);
const TICK_MS = 100;
let received = 0;
const sockets = new Set<net.Socket>();
const perTick = rate / (1000 / TICK_MS);
let tokens = perTick;

setInterval(() => {
  // A chunk may overdraw the bucket; the debt carries over, so the average stays at RATE.
  tokens = Math.min(tokens + perTick, perTick);
  if (tokens > 0) for (const s of sockets) if (s.isPaused()) s.resume();
}, TICK_MS);

const server = net.createServer((socket) => {
  sockets.add(socket);
  socket.on('error', () => undefined);
  socket.on('close', () => sockets.delete(socket));
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
    tokens -= chunk.length;
    if (tokens <= 0) socket.pause();
  });
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as net.AddressInfo).port}\n`));
process.on('message', (m) => {
  if (m === 'received') process.send?.({ received });
});
process.on('SIGTERM', () => process.exit(0));
