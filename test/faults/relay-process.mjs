// The relay the restart cycles kill with SIGKILL and start again: the emulator's RelayEmulator
// (dist/emulator/server.js, what `hcm emulator` runs) on a fixed port, with the keys of a config
// file and the CA kept in a state folder, so every restart is the same relay to the agent. Started
// without the `hcm` command line, which costs this machine about 1.5 s more per start of the
// 100 cycles; what the agent meets is the same server. Prints the ready line on stdout and the
// same "listening" log line as `hcm emulator` (its timestamp is when the port was open).
//   node relay-process.mjs <config.json> <state-dir> <port>
import { loadEmulatorConfig } from '../../dist/emulator/config.js';
import { RelayEmulator } from '../../dist/emulator/server.js';

const [configFile, stateDir, port] = process.argv.slice(2);
const log = (level, message) => process.stderr.write(`${new Date().toISOString()} ${level} ${message}\n`);
const emulator = new RelayEmulator({
  port: Number(port),
  host: '127.0.0.1',
  config: loadEmulatorConfig(configFile),
  stateDir,
  azure: false,
  log,
});
const ready = await emulator.start();
process.stdout.write(`${JSON.stringify(ready)}\n`);
log('info', `relay emulator listening on wss://127.0.0.1:${ready.port}`);
process.once('SIGTERM', () => void emulator.stop().then(() => process.exit(0)));
