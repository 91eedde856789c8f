// A writer of the saved configuration for the fault suite's SIGKILL test: it makes changes as fast
// as it can through the ConfigStore that every `hcm` command and the agent use (the same locked
// read-modify-write and the same entries `hcm add --endpoint`, `hcm remove` and `hcm set-endpoint`
// make), until it is killed. Before each write it prints what it is about to do, after the write
// that the change is done (stdout is a pipe: each line is in it before the next statement runs):
//   intent <seq> add|set <name> <endpoint>    intent <seq> remove <name>    ack <seq>
// node config-writer.mjs <relay sb://…/> <listen key> <name>…   (HCM_HOME names the folder)
import { ConfigStore } from '../../dist/core/config-store.js';
import { hcmPaths } from '../../dist/core/paths.js';

const [relay, key, ...names] = process.argv.slice(2);
const store = new ConfigStore(hcmPaths());
const say = (line) => process.stdout.write(`${line}\n`);
const endpoint = () => `127.0.0.1:${10_000 + Math.floor(Math.random() * 50_000)}`;
const host = new URL(relay).host;

say(`ready ${process.pid}`);
for (let seq = 1; ; seq++) {
  const name = names[Math.floor(Math.random() * names.length)];
  const id = `${host.split('.')[0]}/${name}`;
  await store.update((list) => {
    const i = list.findIndex((c) => c.id === id);
    if (i < 0) {
      const to = endpoint();
      say(`intent ${seq} add ${name} ${to}`);
      list.push({
        id,
        name,
        namespace: host.split('.')[0],
        serviceBusAddress: relay,
        keyName: 'defaultListener',
        endpoint: to,
        endpointSource: 'manual',
        addedAt: new Date().toISOString(),
        connectionString: `Endpoint=${relay};SharedAccessKeyName=defaultListener;SharedAccessKey=${key};EntityPath=${name}`,
      });
    } else if (Math.random() < 0.5) {
      say(`intent ${seq} remove ${name}`);
      list.splice(i, 1);
    } else {
      const to = endpoint();
      say(`intent ${seq} set ${name} ${to}`);
      list[i].endpoint = to;
    }
  });
  say(`ack ${seq}`);
}
