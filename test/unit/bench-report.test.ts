import { describe, expect, it } from 'vitest';
import { UsageError, parseOptions } from '../../src/bench/options.js';
import type { ThroughputRow } from '../../src/bench/phases/throughput.js';
import { costRows, evaluateGoals } from '../../src/bench/results.js';
import { GiB, percentile } from '../../src/bench/stats.js';

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

  it('goal verdicts: 50 % for one stream, 60 % for eight, 2x CPU, setup, idle memory, slow consumer', () => {
    const throughput = [row(1, false, 450e6, 900e6, 1, 0.5), row(8, false, 500e6, 900e6, 1, 0.5)];
    const goals = evaluateGoals({
      mode: 'full',
      throughput,
      cost: costRows(throughput),
      setup: {
        direct: {} as never,
        socat: {} as never,
        tunnel: {
          sequential: 1,
          p50Ms: 1.5,
          p99Ms: 12,
          concurrent: 1,
          workers: 1,
          perSecond: 1200,
          concurrentP50Ms: 0,
          concurrentP99Ms: 0,
          failures: 0,
        },
      },
      idle: {
        requested: 9900,
        held: 9900,
        limitedBy: 'fd limit',
        openSeconds: 1,
        openedPerSecond: 1,
        agentRssBeforeBytes: 0,
        agentRssAfterBytes: 0,
        agentBytesPerConnection: 12 * 1024,
        forwarderBytesPerConnection: 0,
        emulatorBytesPerConnection: 0,
        idleWindowSeconds: 1,
        agentIdleCpuShare: 0,
      },
    });
    const verdict = (prefix: string) => goals.find((g) => g.name.startsWith(prefix))?.met;
    expect(verdict('1 stream client->server')).toBe(true); // exactly 50 %
    expect(verdict('8 streams client->server')).toBe(false); // 56 % < 60 %
    expect(verdict('agent CPU per GiB')).toBe(true); // 1 s vs 0.5 s per GiB: exactly the 2x allowed
    expect(verdict('setup time p50')).toBe(true);
    expect(verdict('setup time p99')).toBe(false);
    expect(verdict('new connections per second')).toBe(true);
    const idle = goals.find((g) => g.name === 'agent memory per idle connection')!;
    expect(idle.met).toBe(true);
    expect(idle.note).toMatch(/9900 connections, not 10,000 \(fd limit\)/);
  });
});
