import net from 'node:net';

/** Echo server for the connection-setup test, in its own process so it does not share the
 * client's event loop. Usage: echo-server.js PORT; prints "listening PORT". */
const port = Number(process.argv[2] ?? 0);
const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => undefined);
  socket.pipe(socket);
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as net.AddressInfo).port}\n`));
process.on('SIGTERM', () => process.exit(0));
