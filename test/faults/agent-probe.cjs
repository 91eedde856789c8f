// Preloaded into the agent under test (node --expose-gc --require agent-probe.cjs …/cli/main.js run)
// by the fault suite only: on SIGUSR2 it collects garbage and writes what the process holds —
// memory and its active handles and timers by type (process.getActiveResourcesInfo) — to the
// file named by HCM_FAULT_PROBE_FILE. Nothing of it is part of the product.
'use strict';
const fs = require('node:fs');

const file = process.env.HCM_FAULT_PROBE_FILE;
if (file) {
  let seq = 0;
  process.on('SIGUSR2', () => {
    if (typeof globalThis.gc === 'function') globalThis.gc();
    const memory = process.memoryUsage();
    const resources = {};
    for (const type of process.getActiveResourcesInfo()) resources[type] = (resources[type] ?? 0) + 1;
    const report = {
      seq: ++seq,
      at: Date.now(),
      rss: memory.rss,
      heapTotal: memory.heapTotal,
      heapUsed: memory.heapUsed,
      external: memory.external,
      resources,
    };
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(report));
    fs.renameSync(`${file}.tmp`, file);
  });
}
