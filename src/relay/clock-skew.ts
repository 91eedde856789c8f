/**
 * This machine's clock against the relay's. SAS tokens carry their expiry in the signer's time
 * (docs/protocol.md §3), so a machine whose clock is behind the relay's by more than a token's
 * lifetime signs tokens the relay already sees as expired: a 401 that no key fixes. Every answer
 * from the relay carries an HTTP `Date` header (the control channel's upgrade, the
 * runtime-information GET, each rendezvous), and each one is noted here, per host, so the
 * messages about a refused token can say what is really wrong.
 */

/** Up to this many seconds apart, the clocks count as agreeing (the header itself is in whole seconds). */
export const CLOCK_SKEW_TOLERANCE_SECONDS = 60;
/** Beyond this, things break (tokens of the runtime-information GET live 10 minutes, Entra ID allows 5): `hcm test` fails. */
export const CLOCK_SKEW_FAILURE_SECONDS = 300;

export interface ClockSample {
  /** The relay host that answered. */
  host: string;
  /** The relay's time as its Date header said (whole seconds). */
  relayTime: Date;
  /** This machine's time when the answer arrived. */
  localTime: Date;
  /** This machine's clock minus the relay's, in seconds: positive when this machine is ahead. */
  skewSeconds: number;
}

const MAX_HOSTS = 256;
const samples = new Map<string, ClockSample & { header: string }>();
let latest: ClockSample | undefined;
const hostKey = (host: string) => host.toLowerCase().replace(/^\[|\]$/g, '');

/**
 * Notes the relay's Date header (an IMF-fixdate, RFC 9110 §5.6.7) from an answer of `host` that
 * arrived at `localNow`. Anything that is not a date is ignored. Cheap when the header has not
 * changed since the last answer of that host (it changes once a second).
 */
export function noteRelayDate(host: string, header: string | string[] | undefined, localNow = Date.now()): ClockSample | undefined {
  const text = Array.isArray(header) ? header[0] : header;
  if (!text || text.length > 64) return undefined;
  const key = hostKey(host);
  const before = samples.get(key);
  if (before && before.header === text && Math.abs(before.localTime.getTime() - localNow) < 1000) return before;
  const relayMs = Date.parse(text);
  if (!Number.isFinite(relayMs)) return undefined;
  // The header is cut to the second: the relay's time was somewhere in [relayMs, relayMs + 1000).
  const sample = {
    host: key,
    relayTime: new Date(relayMs),
    localTime: new Date(localNow),
    skewSeconds: Math.round((localNow - (relayMs + 500)) / 1000),
    header: text,
  };
  samples.delete(key);
  samples.set(key, sample);
  if (samples.size > MAX_HOSTS) samples.delete(samples.keys().next().value!);
  latest = sample;
  return sample;
}

/** The last sample of `host`; undefined when it never sent a Date header. */
export function clockSampleFor(host: string): ClockSample | undefined {
  return samples.get(hostKey(host));
}

/** The newest sample of any host. */
export function latestClockSample(): ClockSample | undefined {
  return latest;
}

/** Forgets every sample (unit tests). */
export function resetClockSamples(): void {
  samples.clear();
  latest = undefined;
}

/**
 * "this machine's clock is 3 minutes off (relay time 2025-06-01T12:00:00Z, this machine is behind)"
 * when the clocks are more than a minute apart; undefined otherwise.
 */
export function clockProblem(sample: ClockSample | undefined): string | undefined {
  if (!sample || Math.abs(sample.skewSeconds) <= CLOCK_SKEW_TOLERANCE_SECONDS) return undefined;
  return describeClockSkew(sample);
}

/** The sentence for any sample, within tolerance or not. */
export function describeClockSkew(sample: ClockSample): string {
  const off = Math.abs(sample.skewSeconds);
  const relayTime = sample.relayTime.toISOString().replace(/\.000Z$/, 'Z');
  const direction = sample.skewSeconds > 0 ? 'ahead' : 'behind';
  return `this machine's clock is ${formatMinutes(off)} off (relay time ${relayTime}, this machine is ${direction})`;
}

/** 1.5 minutes, 12 minutes, 120 minutes: whole minutes from ten on, one decimal below. */
export function formatMinutes(seconds: number): string {
  const minutes = seconds / 60;
  const shown = minutes >= 10 ? String(Math.round(minutes)) : String(Math.round(minutes * 10) / 10);
  return `${shown} ${shown === '1' ? 'minute' : 'minutes'}`;
}

/** What to add to a refused token's message when the clock may be why; empty when it is not off. */
export function clockHint(host: string): string {
  const sample = clockSampleFor(host);
  const problem = clockProblem(sample);
  if (!problem) return '';
  const off = Math.abs(sample!.skewSeconds);
  const why = sample!.skewSeconds < 0 ? `so its tokens expire ${formatMinutes(off)} early in the relay's eyes` : 'which may be why';
  return `; ${problem}, ${why}: set the clock right (NTP)`;
}
