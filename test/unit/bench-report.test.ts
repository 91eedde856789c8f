import { describe, expect, it } from 'vitest';
import { UsageError, parseOptions } from '../../src/bench/options.js';
import type { ThroughputRow } from '../../src/bench/phases/throughput.js';
import type { ManyFigures } from '../../src/bench/phases/many.js';
import { type BenchResult, costRows, evaluateGoals } from '../../src/bench/results.js';
import { GiB, MiB, percentile } from '../../src/bench/stats.js';
import { formatReport } from '../../src/bench/table.js';

/** Pure logic of the bench (npm run bench): options, percentiles, cost and goal verdicts. No timing here. */

function row(streams: number, reverse: boolean, tunnelRate: number, socatRate: number, agentCpu: number, socatCpu: number): ThroughputRow {
  const run = (rate: number, cpu: number) => ({ bytes: GiB, seconds: GiB / rate, bytesPerSecond: rate, cpuSeconds: cpu });
  return {
    name: `${streams} stream${streams > 1 ? 's' : ''} ${reverse ? 'server->client' : 'client->server'}`,
    streams,
    direction: reverse ? 'server->client' : 'client->server',
    transport: 'plain',
    direct: run(3e9, 0),
    socat: run(socatRate, socatCpu),
    tunnel: run(tunnelRate, agentCpu),
    tunnelVsSocat: tunnelRate / socatRate,
    tunnelVsDirect: tunnelRate / 3e9,
    socatVsDirect: socatRate / 3e9,
  };
}

describe('bench options', () => {
  it('quick mode shortens every phase and caps the slow consumer', () => {
    const o = parseOptions(['--quick']);
    expect(o.quick).toBe(true);
    expect(o.iperfSeconds).toBeLessThan(parseOptions([]).iperfSeconds);
    expect(o.slowCapSeconds).toBe(20);
    expect(parseOptions([]).slowCapSeconds).toBeUndefined();
  });

  it('rejects unknown phases and options, and --cli without --commit', () => {
    expect(() => parseOptions(['--only', 'throughput,nope'])).toThrow(UsageError);
    expect(() => parseOptions(['--fast'])).toThrow(/unknown option/);
    expect(() => parseOptions(['--cli', 'x.js'])).toThrow(/--commit/);
    expect(parseOptions(['--only', 'scale', '--connections', '500']).idleConnections).toBe(500);
  });
});

describe('bench figures', () => {
  it('nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
  });

  it('cost per GiB sums CPU and bytes over all plain runs', () => {
    const rows = [row(1, false, 400e6, 800e6, 2, 0.5), row(1, true, 400e6, 800e6, 1, 0.5)];
    const cost = costRows(rows);
    const all = cost.find((c) => c.name === 'all plain runs')!;
    expect(all.agentCpuSecondsPerGiB).toBeCloseTo(1.5);
    expect(all.socatCpuSecondsPerGiB).toBeCloseTo(0.5);
    expect(all.agentVsSocat).toBeCloseTo(3);
  });

  it('goal verdicts (issue 17): 1.0x socat plain, 0.9x the TLS chain, CPU per GiB, setup, idle memory', () => {
    const throughput = [
      row(1, false, 900e6, 900e6, 1, 1), // exactly 1.0x
      row(8, false, 850e6, 900e6, 1, 1), // 0.94x < 1.0x
      { ...row(1, false, 460e6, 500e6, 1.2, 1), transport: 'tls' as const, name: '1 stream client->server (wss)' }, // 0.92x >= 0.9x
      { ...row(8, false, 400e6, 500e6, 1.2, 1), transport: 'tls' as const, name: '8 streams client->server (wss)' }, // 0.8x < 0.9x
    ];
    const setup = (p50Ms: number, p99Ms: number, perSecond: number) => ({
      sequential: 1,
      p50Ms,
      p99Ms,
      concurrent: 1,
      workers: 1,
      perSecond,
      concurrentP50Ms: 0,
      concurrentP99Ms: 0,
      failures: 0,
    });
    const goals = evaluateGoals({
      mode: 'full',
      throughput,
      cost: costRows(throughput),
      setup: {
        transport: 'plain',
        direct: {} as never,
        socat: {} as never,
        tunnel: setup(0.9, 6, 1600),
        tunnelCpuMsPerConnection: { agent: 0.35, forwarder: 0, relay: 0 },
      },
      setupTls: { transport: 'tls', direct: {} as never, socat: {} as never, tunnel: setup(2.5, 9, 900) },
      idle: {
        requested: 9900,
        held: 9900,
        limitedBy: 'fd limit',
        openSeconds: 1,
        openedPerSecond: 1,
        agentRssBeforeBytes: 0,
        agentRssAfterBytes: 0,
        agentBytesPerConnection: 8 * 1024,
        forwarderBytesPerConnection: 0,
        emulatorBytesPerConnection: 0,
        idleWindowSeconds: 1,
        agentIdleCpuShare: 0,
      },
    });
    const verdict = (name: string) => goals.find((g) => g.name === name)?.met;
    expect(verdict('1 stream client->server: tunnel / socat')).toBe(true);
    expect(verdict('8 streams client->server: tunnel / socat')).toBe(false);
    expect(verdict('1 stream client->server (wss): tunnel / socat TLS chain')).toBe(true);
    expect(verdict('8 streams client->server (wss): tunnel / socat TLS chain')).toBe(false);
    expect(verdict('agent CPU per GiB / socat hop')).toBe(true); // 1 s vs 1 s: exactly 1.0x
    expect(verdict('agent CPU per GiB over TLS / socat TLS hop')).toBe(true); // exactly 1.2x
    expect(verdict('setup time p50')).toBe(true);
    expect(verdict('setup time p99')).toBe(false);
    expect(verdict('new connections per second')).toBe(true);
    expect(verdict('agent CPU per new connection')).toBe(false);
    expect(verdict('setup time p50 over TLS')).toBe(true);
    const idle = goals.find((g) => g.name === 'agent memory per idle connection')!;
    expect(idle.met).toBe(true); // exactly 8 KiB
    expect(idle.note).toMatch(/9900 connections, not 10,000 \(fd limit\)/);
  });

  it('many Hybrid Connections and CLI goals; traffic that lost a byte is NOT MET', () => {
    const many = (failures: number): ManyFigures => ({
      count: 250,
      transport: 'tls',
      startToAllConnectedSeconds: 4.2,
      startOneConnectedSeconds: 0.5,
      agentRssBytes: 210 * MiB,
      agentRssOneBytes: 70 * MiB,
      bytesPerHybridConnection: 0,
      idle: { seconds: 10, agentCpuShare: 0.004, emulatorCpuShare: 0, rssStartBytes: 0, rssEndBytes: 0, rssPeakBytes: 0 },
      keepAlive: { intervalMs: 1000, defaultIntervalMs: 25_000, seconds: 5, pings: 1250, cpuMsPerPing: 0.05 },
      renewal: { ttlSeconds: 20, defaultRenewEverySeconds: 2700, seconds: 5, renewals: 83, cpuMsPerRenewal: 1 },
      projectedIdleCpuShare: 0.004,
      traffic: {
        connections: 250,
        bytesEach: 100,
        seconds: 1,
        receivedBytes: 25_000,
        checkedBytes: 25_000 - failures * 100,
        mismatches: 0,
        failures,
        errors: [],
        agentCpuSeconds: 0,
        agentRssPeakBytes: 0,
      },
    });
    const cmd = (name: string, wallVsNode: number, cpuVsNode: number) => ({
      name,
      argv: [],
      runs: 1,
      wallMs: 0,
      cpuMs: 0,
      wallVsNode,
      cpuVsNode,
      samples: [],
    });
    const goals = evaluateGoals({
      mode: 'quick',
      throughput: [],
      cost: [],
      many: many(0),
      cli: {
        node: { runs: 1, wallMs: 40, cpuMs: 40, samples: [] },
        commands: [cmd('hcm version', 1.2, 1.4), cmd('hcm list --json', 1.2, 1.6)],
      },
    });
    const find = (name: string) => goals.find((g) => g.name === name)!;
    expect(find('250 Hybrid Connections: start to all Connected').met).toBe(true);
    expect(find('250 Hybrid Connections: agent RSS').met).toBe(false);
    expect(find('250 Hybrid Connections: agent idle CPU').met).toBe(true);
    expect(find('250 Hybrid Connections: agent RSS').note).toMatch(/250 Hybrid Connections, not 1,000/);
    expect(find('250 Hybrid Connections: traffic echoed intact').met).toBe(true);
    // The worse of wall and CPU counts.
    expect(find('hcm version vs node -e 0 (the worse of wall and CPU)').met).toBe(true);
    expect(find('hcm list --json vs node -e 0 (the worse of wall and CPU)').met).toBe(false);
    const broken = evaluateGoals({ mode: 'quick', throughput: [], cost: [], many: many(1) });
    expect(broken.find((g) => g.name.endsWith('traffic echoed intact'))!.met).toBe(false);
  });

  it('the report prints every goal with its ratio and met / NOT MET', () => {
    const throughput = [
      row(1, false, 900e6, 900e6, 1, 1),
      { ...row(1, false, 250e6, 500e6, 2, 1), transport: 'tls' as const, name: '1 stream client->server (wss)' },
    ];
    const result = {
      schema: 2,
      mode: 'quick',
      startedAt: '2026-12-02T00:00:00.000Z',
      finishedAt: '',
      durationSeconds: 60,
      git: { commit: 'abcdef1234567890', branch: 'main', dirtySrc: [] },
      machine: { cpuModel: 'cpu', cores: 2, memoryGiB: 4, kernel: 'linux', node: 'v24', fdHardLimit: 1024 },
      load: { start: [0.1, 0.1, 0.1], end: [0.1, 0.1, 0.1] },
      foreignLoad: [],
      options: parseOptions(['--quick']),
      throughput,
      cost: costRows(throughput),
      latency: [],
      goals: [],
      errors: [],
    } as unknown as BenchResult;
    result.goals = evaluateGoals(result);
    const text = formatReport(result);
    expect(text).toMatch(/ {2}met {6}1 stream client->server: tunnel \/ socat: 100 % \(>= 100 %\)/);
    expect(text).toMatch(/NOT MET {2}1 stream client->server \(wss\): tunnel \/ socat TLS chain: 50 % \(>= 90 %\)/);
    expect(text).toMatch(/NOT MET {2}agent CPU per GiB over TLS \/ socat TLS hop: 2\.00x \(<= 1\.20x\)/);
    expect(text).toMatch(/Goals: 2 of 4 met/);
    // Each throughput row shows its own goal: the TLS row is judged against the TLS chain.
    expect(text).toMatch(/1 stream client->server \(wss\) .*>= 90 % +NOT MET/);
  });
});
