import type { BenchResult } from './results.js';
import { MB, MiB } from './stats.js';

/** The human-readable report: one section per figure, each with its reference and ratio. */

function render(title: string, header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [title, line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const f = (n: number | undefined, digits = 1) => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits));
const pct = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '-' : `${(n * 100).toFixed(0)} %`);
const times = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '-' : `${n.toFixed(2)}x`);
const mbps = (n: number) => f(n / MB, 0);

export function formatReport(r: BenchResult): string {
  const out: string[] = [];
  const dirty = r.git.dirtySrc.length ? ` + uncommitted changes in ${r.git.dirtySrc.join(', ')}` : '';
  out.push(`open-hcm bench (${r.mode}) ${r.startedAt}, ${r.durationSeconds.toFixed(0)} s`);
  out.push(`commit ${r.git.commit.slice(0, 12)} on ${r.git.branch}${dirty}`);
  out.push(`${r.machine.cpuModel}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, ${r.machine.kernel}, node ${r.machine.node}`);
  out.push(`load average (1/5/15 min) at start ${r.load.start.join(' ')}, at end ${r.load.end.join(' ')}`);
  if (r.foreignLoad?.length) {
    out.push(
      `other work on the machine (cores, of ${r.machine.cores}): ${r.foreignLoad.map((l) => `${l.phase} ${l.foreignCores.toFixed(2)}`).join(', ')}`,
    );
  }

  if (r.throughput.length) {
    out.push(
      '',
      render(
        'Throughput, iperf3 (MB/s); reference: socat chain of three hops; last column: cores used by other work during each run',
        ['case', 'tunnel', 'socat', 'direct', 'tunnel/socat', 'tunnel/direct', 'goal', '', 'other load t/s/d'],
        r.throughput.map((t) => {
          const goal = r.goals.find((g) => g.name.startsWith(`${t.name}:`));
          const load = [t.tunnel, t.socat, t.direct].map((x) => f(x.foreignCores, 1)).join('/');
          return [
            t.name,
            mbps(t.tunnel.bytesPerSecond),
            mbps(t.socat.bytesPerSecond),
            mbps(t.direct.bytesPerSecond),
            pct(t.tunnelVsSocat),
            pct(t.tunnelVsDirect),
            goal ? `>= ${pct(goal.target)}` : '(info)',
            goal ? (goal.met ? 'met' : 'NOT MET') : '',
            load,
          ];
        }),
      ),
    );
  }
  if (r.cost.length) {
    const goal = r.goals.find((g) => g.name.startsWith('agent CPU per GiB'));
    out.push(
      '',
      render(
        'Cost, CPU seconds per GiB relayed; reference: the socat hop next to the server (forwarder and relay: information)',
        ['case', 'agent', 'socat hop', 'agent/socat', 'goal', '', 'forwarder', 'relay'],
        r.cost.map((c) => {
          const isGoal = c.name === 'all plain runs' || r.cost.length === 1;
          const goalCells = isGoal && goal ? ['<= 2.00x', goal.met ? 'met' : 'NOT MET'] : ['', ''];
          return [
            c.name,
            f(c.agentCpuSecondsPerGiB, 2),
            f(c.socatCpuSecondsPerGiB, 2),
            times(c.agentVsSocat),
            ...goalCells,
            f(c.forwarderCpuSecondsPerGiB, 2),
            f(c.relayCpuSecondsPerGiB, 2),
          ];
        }),
      ),
    );
  }
  if (r.latency.length) {
    out.push(
      '',
      render(
        'Latency, redis-benchmark against redis-server (ms); reference: direct',
        [
          'clients test',
          'tunnel p50',
          'p99',
          'socat p50',
          'p99',
          'direct p50',
          'p99',
          'tunnel-direct p50',
          'tunnel/direct p50',
          'tunnel rps',
          'direct rps',
        ],
        r.latency.map((l) => [
          `-c ${l.clients} ${l.test}`,
          f(l.tunnel.p50Ms, 3),
          f(l.tunnel.p99Ms, 3),
          f(l.socat.p50Ms, 3),
          f(l.socat.p99Ms, 3),
          f(l.direct.p50Ms, 3),
          f(l.direct.p99Ms, 3),
          `+${f(l.tunnel.p50Ms - l.direct.p50Ms, 3)}`,
          times(l.tunnel.p50Ms / l.direct.p50Ms),
          f(l.tunnel.rps, 0),
          f(l.direct.rps, 0),
        ]),
      ),
    );
  }
  if (r.setup) {
    const s = r.setup;
    const g = (name: string) => r.goals.find((x) => x.name === name);
    const goalCells = (goal: ReturnType<typeof g>, text: string) => (goal ? [text, goal.met ? 'met' : 'NOT MET'] : ['', '']);
    out.push(
      '',
      render(
        `Connection setup: connect, 1-byte echo, close (${s.tunnel.sequential} sequential; ${s.tunnel.concurrent} with ${s.tunnel.workers} concurrent clients); reference: socat`,
        ['figure', 'tunnel', 'socat', 'direct', 'tunnel/socat', 'goal', ''],
        [
          [
            'setup time p50 (ms)',
            f(s.tunnel.p50Ms, 2),
            f(s.socat.p50Ms, 2),
            f(s.direct.p50Ms, 2),
            times(s.tunnel.p50Ms / s.socat.p50Ms),
            ...goalCells(g('setup time p50'), '<= 2 ms'),
          ],
          [
            'setup time p99 (ms)',
            f(s.tunnel.p99Ms, 2),
            f(s.socat.p99Ms, 2),
            f(s.direct.p99Ms, 2),
            times(s.tunnel.p99Ms / s.socat.p99Ms),
            ...goalCells(g('setup time p99'), '<= 10 ms'),
          ],
          [
            'new connections/s',
            f(s.tunnel.perSecond, 0),
            f(s.socat.perSecond, 0),
            f(s.direct.perSecond, 0),
            times(s.tunnel.perSecond / s.socat.perSecond),
            ...goalCells(g('new connections per second'), '>= 1000/s'),
          ],
          [
            'concurrent p50 / p99 (ms)',
            `${f(s.tunnel.concurrentP50Ms, 1)} / ${f(s.tunnel.concurrentP99Ms, 1)}`,
            `${f(s.socat.concurrentP50Ms, 1)} / ${f(s.socat.concurrentP99Ms, 1)}`,
            `${f(s.direct.concurrentP50Ms, 1)} / ${f(s.direct.concurrentP99Ms, 1)}`,
            '',
            '(info)',
            '',
          ],
          ['failed round trips', String(s.tunnel.failures), String(s.socat.failures), String(s.direct.failures), '', '', ''],
          ...(s.tunnelCpuMsPerConnection
            ? [
                ['CPU ms per connection: agent', f(s.tunnelCpuMsPerConnection.agent, 3), '', '', '', '(info)', ''],
                [
                  '  forwarder / relay',
                  `${f(s.tunnelCpuMsPerConnection.forwarder, 3)} / ${f(s.tunnelCpuMsPerConnection.relay, 3)}`,
                  '',
                  '',
                  '',
                  '(info)',
                  '',
                ],
                ['  agent alone, conn/s per core', f(1000 / s.tunnelCpuMsPerConnection.agent, 0), '', '', '', '(info)', ''],
              ]
            : []),
        ],
      ),
    );
  }
  if (r.idle) {
    const i = r.idle;
    const goal = r.goals.find((g) => g.name === 'agent memory per idle connection');
    out.push(
      '',
      render(
        `Idle scale: ${i.held} of ${i.requested} tunneled connections held idle${i.limitedBy ? ` (${i.limitedBy})` : ''}`,
        ['figure', 'value', 'goal', ''],
        [
          ['agent memory per connection (KiB)', f(i.agentBytesPerConnection / 1024, 1), '<= 20 KiB', goal?.met ? 'met' : 'NOT MET'],
          ['agent RSS before / after (MiB)', `${f(i.agentRssBeforeBytes / MiB)} / ${f(i.agentRssAfterBytes / MiB)}`, '', ''],
          ['agent CPU while idle (% of a core)', f(i.agentIdleCpuShare * 100, 2), '(info)', ''],
          [
            'forwarder / emulator per connection (KiB)',
            `${f(i.forwarderBytesPerConnection / 1024)} / ${f(i.emulatorBytesPerConnection / 1024)}`,
            '(info)',
            '',
          ],
          ['opening rate, 64 at a time (conn/s)', f(i.openedPerSecond, 0), '(info)', ''],
        ],
      ),
    );
  }
  if (r.slow) {
    const s = r.slow;
    const goal = r.goals.find((g) => g.name.startsWith('slow consumer'));
    const capped = s.cappedAtSeconds ? `, capped at ${s.cappedAtSeconds} s` : '';
    out.push(
      '',
      render(
        `Slow consumer: endpoint reads ${f(s.rateBytesPerSecond / MiB, 2)} MiB/s, client pushes ${f(s.totalBytes / MiB, 0)} MiB${capped}`,
        ['figure', 'value', 'goal', ''],
        [
          ['agent RSS growth, peak over baseline (MiB)', f(s.agentGrowthBytes / MiB), '<= 32 MiB', goal?.met ? 'met' : 'NOT MET'],
          ['agent RSS baseline / peak (MiB)', `${f(s.agentRssBaselineBytes / MiB)} / ${f(s.agentRssPeakBytes / MiB)}`, '', ''],
          ['forwarder / emulator growth (MiB)', `${f(s.forwarderGrowthBytes / MiB)} / ${f(s.emulatorGrowthBytes / MiB)}`, '(info)', ''],
          [
            'read by endpoint / accepted from client (MiB)',
            `${f(s.endpointReadBytes / MiB, 0)} / ${f(s.clientWroteBytes / MiB, 0)}`,
            '',
            '',
          ],
          ['duration (s)', f(s.seconds, 0), '', ''],
        ],
      ),
    );
  }
  if (r.goals.length) {
    const met = r.goals.filter((g) => g.met).length;
    out.push('', `Goals: ${met} of ${r.goals.length} met`);
    for (const g of r.goals) {
      const value =
        g.unit === 'ratio' ? (g.name.includes('CPU') ? times(g.value) : pct(g.value)) : `${f(g.value, g.unit === '/s' ? 0 : 2)} ${g.unit}`;
      const target = g.unit === 'ratio' ? (g.name.includes('CPU') ? times(g.target) : pct(g.target)) : `${g.target} ${g.unit}`;
      out.push(
        `  ${g.met ? 'met    ' : 'NOT MET'}  ${g.name}: ${value} (${g.kind === 'min' ? '>=' : '<='} ${target})${g.note ? ` [${g.note}]` : ''}`,
      );
    }
  }
  for (const e of r.errors) out.push('', `ERROR in ${e.phase}: ${e.message}`);
  return out.join('\n');
}
