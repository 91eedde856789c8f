import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import {
  clockHint,
  clockProblem,
  clockSampleFor,
  formatMinutes,
  latestClockSample,
  noteRelayDate,
  resetClockSamples,
} from '../../src/relay/clock-skew.js';
import { parseConnectionString } from '../../src/relay/connection-string.js';
import type { ControlChannelEvents } from '../../src/relay/control-channel.js';
import { RelayHandshakeError } from '../../src/relay/errors.js';
import { HybridConnectionListener, type SupervisedChannel } from '../../src/relay/hybrid-connection-listener.js';

/** This machine's clock against the relay's Date headers (issue 15, item 3), and what the supervisor says with it. */

const RELAY = Date.UTC(2025, 5, 1, 12, 0, 0);
const header = (ms: number) => new Date(ms).toUTCString();

afterEach(() => resetClockSamples());

describe('noteRelayDate', () => {
  it('measures this machine minus the relay, from the middle of the second the header names', () => {
    expect(noteRelayDate('contoso.servicebus.windows.net', header(RELAY), RELAY + 500)!.skewSeconds).toBe(0);
    expect(noteRelayDate('a.example', header(RELAY), RELAY - 7200_000)!.skewSeconds).toBe(-7200);
    expect(noteRelayDate('b.example', header(RELAY), RELAY + 90_500)!.skewSeconds).toBe(90);
    expect(clockSampleFor('B.EXAMPLE')!.relayTime.toISOString()).toBe('2025-06-01T12:00:00.000Z');
    expect(latestClockSample()!.host).toBe('b.example');
  });

  it('ignores what is not a date, and keeps hosts apart', () => {
    expect(noteRelayDate('x.example', undefined)).toBeUndefined();
    expect(noteRelayDate('x.example', 'yesterday-ish')).toBeUndefined();
    expect(noteRelayDate('x.example', 'x'.repeat(100))).toBeUndefined();
    expect(clockSampleFor('x.example')).toBeUndefined();
    noteRelayDate('[::1]', [header(RELAY)], RELAY + 60_500);
    expect(clockSampleFor('::1')!.skewSeconds).toBe(60);
  });

  it('keeps at most 256 hosts, the oldest dropped', () => {
    for (let i = 0; i < 300; i++) noteRelayDate(`g${i}.example`, header(RELAY), RELAY);
    expect(clockSampleFor('g0.example')).toBeUndefined();
    expect(clockSampleFor('g299.example')).toBeDefined();
  });
});

describe('the sentence', () => {
  it('is said only beyond a minute, with the relay time and the direction', () => {
    expect(clockProblem(noteRelayDate('h', header(RELAY), RELAY + 60_400))).toBeUndefined();
    expect(clockProblem(noteRelayDate('h', header(RELAY), RELAY - 7200_000))).toBe(
      "this machine's clock is 120 minutes off (relay time 2025-06-01T12:00:00Z, this machine is behind)",
    );
    expect(clockProblem(noteRelayDate('h', header(RELAY + 1000), RELAY + 91_500))).toBe(
      "this machine's clock is 1.5 minutes off (relay time 2025-06-01T12:00:01Z, this machine is ahead)",
    );
  });

  it('reads as people write it', () => {
    expect(formatMinutes(60)).toBe('1 minute');
    expect(formatMinutes(90)).toBe('1.5 minutes');
    expect(formatMinutes(599)).toBe('10 minutes');
    expect(formatMinutes(7201)).toBe('120 minutes');
  });

  it('is added to a refused token only when the clock is off, saying what it does to tokens', () => {
    noteRelayDate('ok.example', header(RELAY), RELAY + 500);
    expect(clockHint('ok.example')).toBe('');
    expect(clockHint('never.example')).toBe('');
    noteRelayDate('slow.example', header(RELAY), RELAY - 3 * 3600_000);
    expect(clockHint('slow.example')).toMatch(
      /^; this machine's clock is 180 minutes off \(relay time 2025-06-01T12:00:00Z, this machine is behind\), so its tokens expire 180 minutes early in the relay's eyes: set the clock right \(NTP\)$/,
    );
  });
});

/** A control channel that answers the way a relay with another clock does. */
class ScriptedChannel extends EventEmitter<ControlChannelEvents> implements SupervisedChannel {
  readonly listenerId = 'scripted';
  constructor(private readonly result: () => Promise<void>) {
    super();
  }
  open(): Promise<void> {
    return this.result();
  }
  close(): void {}
}

describe('the supervisor', () => {
  const cs = parseConnectionString(
    'Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=defaultListener;SharedAccessKey=k;EntityPath=orders',
  );
  /** A listener whose control channel opens, or fails, as `open` says. */
  const listenerWith = (open: () => Promise<void>) =>
    new HybridConnectionListener('contoso/orders', cs, { host: 'db', port: 5432 }, {}, { createChannel: () => new ScriptedChannel(open) });

  it('puts the clock in the Unauthorized status of a 401 when the relay time is far off', async () => {
    const listener = listenerWith(async () => {
      noteRelayDate(cs.host, header(Date.now() + 7200_000));
      throw new RelayHandshakeError(401, 'InvalidSignature: token expired at 2025-06-01T10:00:00.000Z. TrackingId:abc');
    });
    listener.start();
    await new Promise((r) => setImmediate(r));
    await listener.stop();
    const snap = listener.snapshot();
    expect(snap.lastError!.message).toMatch(
      /^the relay refused the key \(401: InvalidSignature: token expired at .*\); this machine's clock is 120 minutes off \(relay time \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, this machine is behind\)/,
    );
  });

  it('warns when the clock is a little off but the relay still takes the tokens', async () => {
    const lines: string[] = [];
    const listener = listenerWith(async () => {
      noteRelayDate(cs.host, header(Date.now() - 90_000));
    });
    listener.on('log', (level, message) => lines.push(`${level} ${message}`));
    listener.start();
    await new Promise((r) => setImmediate(r));
    expect(listener.status).toBe('Connected');
    expect(lines.filter((l) => l.includes('clock'))).toEqual([
      expect.stringMatching(
        /^warn this machine's clock is 1\.5 minutes off \(relay time .*, this machine is ahead\); SAS tokens are refused/,
      ),
    ]);
    await listener.stop();
  });
});
