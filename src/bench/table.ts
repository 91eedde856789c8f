import type { LatencyRow } from './phases/latency.js';
import type { SetupRow } from './phases/setup.js';
import { ALL_RUNS, type BenchResult, type Goal, TARGETS, throughputGoalName } from './results.js';
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
const signed = (n: number, digits = 3) => (Number.isFinite(n) ? `${n >= 0 ? '+' : ''}${n.toFixed(digits)}` : '-');

/** "met" / "NOT MET" of a goal, or '' when there is none. */
const verdict = (g: Goal | undefined) => (g ? (g.met ? 'met' : 'NOT MET') : '');

function goalValue(g: Goal, n: number): string {
  if (g.unit === 'ratio') return pct(n);
  if (g.unit === 'x') return times(n);
  return `${f(n, g.unit === '/s' ? 0 : 2)} ${g.unit}`;
}

export function formatReport(r: BenchResult): string {
  const out: string[] = [];
  const goal = (name: string) => r.goals.find((g) => g.name === name);
  const goalStarting = (prefix: string) => r.goals.find((g) => g.name.startsWith(prefix));
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
        'Throughput, iperf3 (MB/s); reference: socat chain of three hops (plain for ws://, TLS middle legs for wss://); last column: cores used by other work during each run',
        ['case', 'tunnel', 'socat', 'direct', 'tunnel/socat', 'tunnel/direct', 'goal', '', 'other load t/s/d'],
        r.throughput.map((t) => {
          const g = goal(throughputGoalName(t));
          const load = [t.tunnel, t.socat, t.direct].map((x) => f(x.foreignCores, 1)).join('/');
          return [
            `${t.name}${t.transport === 'plain' ? ' (ws)' : ''}`,
            mbps(t.tunnel.bytesPerSecond),
            mbps(t.socat.bytesPerSecond),
            mbps(t.direct.bytesPerSecond),
            pct(t.tunnelVsSocat),
            pct(t.tunnelVsDirect),
            g ? `>= ${pct(g.target)}` : '(info)',
            verdict(g),
            load,
          ];
        }),
      ),
    );
  }
  if (r.cost.length) {
    out.push(
      '',
      render(
        'Cost, CPU seconds per GiB relayed; reference: the socat hop next to the server (TLS hop for wss); forwarder and relay: information',
        ['case', 'agent', 'socat hop', 'agent/socat', 'goal', '', 'forwarder', 'relay'],
        r.cost.map((c) => {
          const isAll = c.name === ALL_RUNS[c.transport];
          const g = isAll
            ? goal(c.transport === 'tls' ? 'agent CPU per GiB over TLS / socat TLS hop' : 'agent CPU per GiB / socat hop')
            : undefined;
          return [
            c.name.includes('wss') || c.transport === 'plain' || isAll ? c.name : `${c.name} (wss)`,
            f(c.agentCpuSecondsPerGiB, 2),
            f(c.socatCpuSecondsPerGiB, 2),
            times(c.agentVsSocat),
            g ? `<= ${times(g.target)}` : '',
            verdict(g),
            f(c.forwarderCpuSecondsPerGiB, 2),
            f(c.relayCpuSecondsPerGiB, 2),
          ];
        }),
      ),
    );
  }
  if (r.latency.length) out.push('', ...latencySections(r.latency));
  for (const s of [r.setup, r.setupTls]) if (s) out.push('', setupSection(s, r));
  if (r.idle) {
    const i = r.idle;
    const g = goal('agent memory per idle connection');
    out.push(
      '',
      render(
        `Idle scale: ${i.held} of ${i.requested} tunneled connections held idle (ws)${i.limitedBy ? ` (${i.limitedBy})` : ''}`,
        ['figure', 'value', 'goal', ''],
        [
          [
            'agent memory per connection (KiB)',
            f(i.agentBytesPerConnection / 1024, 1),
            `<= ${TARGETS.idleKiBPerConnection} KiB`,
            verdict(g),
          ],
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
  if (r.many) out.push('', manySection(r));
  if (r.cli) {
    const c = r.cli;
    out.push(
      '',
      render(
        `CLI start-up: median of ${c.node.runs} runs each, interleaved; reference: node -e 0 (${f(c.node.wallMs, 0)} ms wall, ${f(c.node.cpuMs, 0)} ms CPU)`,
        ['command', 'wall ms', 'CPU ms', 'wall / node', 'CPU / node', 'goal', ''],
        c.commands.map((x) => {
          const g = goalStarting(`${x.name} vs node`);
          return [
            x.name,
            f(x.wallMs, 0),
            f(x.cpuMs, 0),
            times(x.wallVsNode),
            times(x.cpuVsNode),
            `<= ${times(TARGETS.cliVsNode)}`,
            verdict(g),
          ];
        }),
      ),
    );
  }
  if (r.slow) {
    const s = r.slow;
    const g = goalStarting('slow consumer');
    const capped = s.cappedAtSeconds ? `, capped at ${s.cappedAtSeconds} s` : '';
    out.push(
      '',
      render(
        `Slow consumer: endpoint reads ${f(s.rateBytesPerSecond / MiB, 2)} MiB/s, client pushes ${f(s.totalBytes / MiB, 0)} MiB${capped}`,
        ['figure', 'value', 'goal', ''],
        [
          ['agent RSS growth, peak over baseline (MiB)', f(s.agentGrowthBytes / MiB), `<= ${TARGETS.slowGrowthMiB} MiB`, verdict(g)],
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
      out.push(
        `  ${g.met ? 'met    ' : 'NOT MET'}  ${g.name}: ${goalValue(g, g.value)} (${g.kind === 'min' ? '>=' : '<='} ${goalValue(g, g.target)})${g.note ? ` [${g.note}]` : ''}`,
      );
    }
  }
  for (const e of r.errors) out.push('', `ERROR in ${e.phase}: ${e.message}`);
  return out.join('\n');
}

function latencySections(rows: LatencyRow[]): string[] {
  const label = (l: LatencyRow) => `${l.transport === 'tls' ? 'wss' : 'ws'} -c ${l.clients} ${l.test}`;
  const all = render(
    'Latency, redis-benchmark against redis-server (ms); reference: direct (socat: plain chain for ws, TLS chain for wss)',
    ['path clients test', 'tunnel p50', 'p99', 'socat p50', 'p99', 'direct p50', 'p99', 'tunnel rps', 'socat rps', 'direct rps'],
    rows.map((l) => [
      label(l),
      f(l.tunnel.p50Ms, 3),
      f(l.tunnel.p99Ms, 3),
      f(l.socat.p50Ms, 3),
      f(l.socat.p99Ms, 3),
      f(l.direct.p50Ms, 3),
      f(l.direct.p99Ms, 3),
      f(l.tunnel.rps, 0),
      f(l.socat.rps, 0),
      f(l.direct.rps, 0),
    ]),
  );
  const small = rows.filter((l) => l.test === 'GET');
  const added = render(
    'Latency added to a small request/response (redis GET): path minus direct, ms',
    ['path clients', 'tunnel +p50', 'tunnel +p99', 'socat +p50', 'socat +p99', 'tunnel/direct p50'],
    small.map((l) => [
      `${l.transport === 'tls' ? 'wss' : 'ws'} -c ${l.clients}`,
      signed(l.tunnel.p50Ms - l.direct.p50Ms),
      signed(l.tunnel.p99Ms - l.direct.p99Ms),
      signed(l.socat.p50Ms - l.direct.p50Ms),
      signed(l.socat.p99Ms - l.direct.p99Ms),
      times(l.tunnel.p50Ms / l.direct.p50Ms),
    ]),
  );
  return small.length ? [all, '', added] : [all];
}

function setupSection(s: SetupRow, r: BenchResult): string {
  const tls = s.transport === 'tls';
  const g = (name: string) => r.goals.find((x) => x.name === name);
  const cells = (name: string, text: string) => {
    const x = g(name);
    return x ? [text, verdict(x)] : ['(info)', ''];
  };
  const rows: string[][] = [
    [
      'setup time p50 (ms)',
      f(s.tunnel.p50Ms, 2),
      f(s.socat.p50Ms, 2),
      f(s.direct.p50Ms, 2),
      times(s.tunnel.p50Ms / s.socat.p50Ms),
      ...(tls
        ? cells('setup time p50 over TLS', `<= ${TARGETS.setupTlsP50Ms} ms`)
        : cells('setup time p50', `<= ${TARGETS.setupP50Ms} ms`)),
    ],
    [
      'setup time p99 (ms)',
      f(s.tunnel.p99Ms, 2),
      f(s.socat.p99Ms, 2),
      f(s.direct.p99Ms, 2),
      times(s.tunnel.p99Ms / s.socat.p99Ms),
      ...(tls ? ['(info)', ''] : cells('setup time p99', `<= ${TARGETS.setupP99Ms} ms`)),
    ],
    [
      'new connections/s',
      f(s.tunnel.perSecond, 0),
      f(s.socat.perSecond, 0),
      f(s.direct.perSecond, 0),
      times(s.tunnel.perSecond / s.socat.perSecond),
      ...(tls ? ['(info)', ''] : cells('new connections per second', `>= ${TARGETS.connectionsPerSecond}/s`)),
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
  ];
  const t = s.tunnelCpuMsPerConnection;
  const c = s.socatCpuMsPerConnection;
  if (t) {
    const total = t.agent + t.forwarder + t.relay;
    const socatTotal = c ? c.first + c.middle + c.last : NaN;
    const share = (n: number, of: number) => `${f(n, 3)} (${pct(n / of)})`;
    rows.push(
      [
        'CPU ms per connection: agent / socat last hop',
        share(t.agent, total),
        c ? share(c.last, socatTotal) : '',
        '',
        c ? times(t.agent / c.last) : '',
        ...(tls ? ['(info)', ''] : cells('agent CPU per new connection', `<= ${TARGETS.agentCpuMsPerConnection} ms`)),
      ],
      ['  relay / socat middle hop', share(t.relay, total), c ? share(c.middle, socatTotal) : '', '', '', '(info)', ''],
      ['  forwarder / socat first hop', share(t.forwarder, total), c ? share(c.first, socatTotal) : '', '', '', '(info)', ''],
      ['  all three', f(total, 3), c ? f(socatTotal, 3) : '', '', c ? times(total / socatTotal) : '', '(info)', ''],
      ['  agent alone, conn/s per core', f(1000 / t.agent, 0), '', '', '', '(info)', ''],
    );
  }
  return render(
    `Connection setup over ${tls ? 'TLS (wss; socat with TLS middle legs)' : 'ws (socat plain)'}: connect, 1-byte echo, close (${s.tunnel.sequential} sequential; ${s.tunnel.concurrent} with ${s.tunnel.workers} concurrent clients); reference: socat`,
    ['figure', 'tunnel', 'socat', 'direct', 'tunnel/socat', 'goal', ''],
    rows,
  );
}

function manySection(r: BenchResult): string {
  const m = r.many!;
  const g = (suffix: string) => r.goals.find((x) => x.name === `${m.count} Hybrid Connections: ${suffix}`);
  const rows: string[][] = [
    [
      'start to all Connected (s)',
      f(m.startToAllConnectedSeconds, 2),
      `one: ${f(m.startOneConnectedSeconds, 2)}`,
      `<= ${TARGETS.manyConnectedSeconds} s`,
      verdict(g('start to all Connected')),
    ],
    [
      'agent RSS (MiB)',
      f(m.agentRssBytes / MiB),
      `one: ${f(m.agentRssOneBytes / MiB)}`,
      `<= ${TARGETS.manyRssMiB} MiB`,
      verdict(g('agent RSS')),
    ],
    ['  per Hybrid Connection (KiB)', f(m.bytesPerHybridConnection / 1024), '', '(info)', ''],
    ...(m.agentRssPlainNodeBytes === undefined
      ? []
      : [["  without the agent's Node options (MiB)", f(m.agentRssPlainNodeBytes / MiB), 'bare `node main.js run`', '(info)', '']]),
    [
      `agent CPU idle, ${m.idle.seconds} s (% of a core)`,
      f(m.idle.agentCpuShare * 100, 2),
      `relay: ${f(m.idle.emulatorCpuShare * 100, 2)}`,
      `< ${TARGETS.manyIdleCpuShare * 100} %`,
      verdict(g('agent idle CPU')),
    ],
    [
      '  agent RSS over the idle window, start / end / peak (MiB)',
      `${f(m.idle.rssStartBytes / MiB)} / ${f(m.idle.rssEndBytes / MiB)} / ${f(m.idle.rssPeakBytes / MiB)}`,
      '',
      '(info)',
      '',
    ],
    [
      `keep-alive: CPU ms per ping (${m.keepAlive.pings} pings at ${m.keepAlive.intervalMs} ms)`,
      f(m.keepAlive.cpuMsPerPing, 3),
      `${f(((m.count * m.keepAlive.cpuMsPerPing) / m.keepAlive.defaultIntervalMs) * 100, 3)} % at ${m.keepAlive.defaultIntervalMs / 1000} s`,
      '(info)',
      '',
    ],
    [
      `token renewal: CPU ms per renewal (~${m.renewal.renewals} with ${m.renewal.ttlSeconds} s tokens)`,
      f(m.renewal.cpuMsPerRenewal, 3),
      `${f(((m.count * m.renewal.cpuMsPerRenewal) / 1000 / m.renewal.defaultRenewEverySeconds) * 100, 3)} % every ${m.renewal.defaultRenewEverySeconds / 60} min`,
      '(info)',
      '',
    ],
    ['agent CPU over time at the defaults (% of a core)', f(m.projectedIdleCpuShare * 100, 2), 'idle + renewals', '(info)', ''],
  ];
  const t = m.traffic;
  if (t) {
    rows.push(
      [
        `traffic: ${t.connections} at once, ${f(t.bytesEach / 1024, 0)} KiB each way`,
        t.failures === 0 && t.mismatches === 0 && t.checkedBytes === t.connections * t.bytesEach ? 'every byte checked' : 'FAILED',
        `${t.failures} failed, ${t.mismatches} mismatched${t.errors.length ? `: ${t.errors.join('; ')}` : ''}`,
        '(info)',
        '',
      ],
      ['  opening all of them at once first (s)', f(t.openSeconds, 2), '', '(info)', ''],
      [
        '  traffic seconds / MB/s each way / agent CPU s per GiB',
        `${f(t.seconds, 2)} / ${f(t.receivedBytes / t.seconds / MB, 0)}`,
        f(t.agentCpuSeconds / ((2 * t.receivedBytes) / 2 ** 30), 2),
        '(info)',
        '',
      ],
      ['  agent RSS peak during traffic (MiB)', f(t.agentRssPeakBytes / MiB), '', '(info)', ''],
    );
  }
  return render(
    `Many Hybrid Connections: ${m.count} in one agent (wss, emulator config generated, agent config written directly)`,
    ['figure', 'value', 'reference', 'goal', ''],
    rows,
  );
}
