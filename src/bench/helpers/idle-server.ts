import net from 'node:net';

/** Endpoint for the idle-scale test: accepts and does nothing. Answers "count" over IPC with
 * the number of open connections. Usage: idle-server.js PORT. */
const port = Number(process.argv[2] ?? 0);
let open = 0;
const server = net.createServer((socket) => {
  open++;
  socket.on('error', () => undefined);
  socket.on('close', () => open--);
});
server.maxConnections = 1_000_000;
server.listen({ port, host: '127.0.0.1', backlog: 4096 }, () =>
  process.stdout.write(`listening ${(server.address() as net.AddressInfo).port}\n`),
);
process.on('message', (m) => {
  if (m === 'count') process.send?.({ count: open });
});
process.on('SIGTERM', () => process.exit(0));
