import { BUILT_IN_FEED_URL, FIRST_CHECK_DELAY_MS, RETRY_DELAY_MS } from './defaults.js';

/**
 * Which feed to read and whether to check at all, from (strongest first) the environment, the
 * `settings.updates` object of config.json, and the feed built into this version:
 *
 *   HCM_UPDATE_URL=https://…/         the feed (a folder holding latest*.yml)
 *   HCM_UPDATE_CHECK=off|on           turn checks off (or back on over the setting)
 *   HCM_UPDATE_PRERELEASE=1           pre-release versions count as updates
 *   HCM_UPDATE_RETRY_MS               first retry delay after a failed check (for tests; default 15 min)
 *   HCM_UPDATE_FIRST_CHECK_MS         delay of the check at start (for tests; default 3 s + up to 3 s)
 *
 *   config.json: "settings": { "updates": { "url": "https://…/", "check": false, "prerelease": true } }
 *
 * Pure, and never throws: a mistake turns checks off and says why, so an update setting can
 * never keep the agent from relaying.
 */

export interface UpdateSettings {
  url?: string;
  check?: boolean;
  prerelease?: boolean;
}

export interface ResolvedUpdateSettings {
  /** The feed folder, ending in '/'; null when checks are off. */
  feedUrl: string | null;
  /** Why this host does not check (checks turned off, no feed, a mistake); null when it checks. */
  offReason: string | null;
  prerelease: boolean;
  firstCheckDelayMs: number;
  retryDelayMs: number;
  /** Where the feed URL came from, for messages. */
  feedSource: 'HCM_UPDATE_URL' | 'settings.updates.url' | 'built-in';
}

const OFF = new Set(['off', '0', 'false', 'no']);
const ON = new Set(['on', '1', 'true', 'yes']);

export function resolveUpdateSettings(
  saved: unknown,
  env: NodeJS.ProcessEnv = process.env,
  builtInUrl: string = BUILT_IN_FEED_URL,
): ResolvedUpdateSettings {
  const timing = {
    firstCheckDelayMs: msFromEnv(env.HCM_UPDATE_FIRST_CHECK_MS) ?? FIRST_CHECK_DELAY_MS,
    retryDelayMs: msFromEnv(env.HCM_UPDATE_RETRY_MS) ?? RETRY_DELAY_MS,
  };
  const off = (offReason: string, feedSource: ResolvedUpdateSettings['feedSource'] = 'built-in'): ResolvedUpdateSettings => ({
    feedUrl: null,
    offReason,
    prerelease: false,
    feedSource,
    ...timing,
  });

  const settings = readSettings(saved);
  if (typeof settings === 'string') return off(`${settings}; update checks are off until it is fixed`);

  const envCheck = env.HCM_UPDATE_CHECK?.trim().toLowerCase();
  if (envCheck && !OFF.has(envCheck) && !ON.has(envCheck))
    return off(`HCM_UPDATE_CHECK must be "off" or "on", not "${env.HCM_UPDATE_CHECK}"; update checks are off until it is fixed`);
  if (envCheck && OFF.has(envCheck)) return off('Update checks are turned off (HCM_UPDATE_CHECK=off).');
  if (!envCheck && settings.check === false) return off('Update checks are turned off (settings.updates.check is false in config.json).');

  const envPrerelease = env.HCM_UPDATE_PRERELEASE?.trim().toLowerCase();
  const prerelease = envPrerelease ? ON.has(envPrerelease) : settings.prerelease === true;

  const [raw, feedSource]: [string, ResolvedUpdateSettings['feedSource']] = env.HCM_UPDATE_URL?.trim()
    ? [env.HCM_UPDATE_URL.trim(), 'HCM_UPDATE_URL']
    : settings.url
      ? [settings.url, 'settings.updates.url']
      : [builtInUrl, 'built-in'];
  const checked = checkFeedUrl(raw);
  if ('problem' in checked)
    return off(`The update feed ${raw} (${feedSource}) ${checked.problem}; update checks are off until it is fixed.`, feedSource);
  if (new URL(checked.url).hostname.endsWith('.invalid'))
    return off('No update feed is configured for this build (set HCM_UPDATE_URL or settings.updates.url to check).', feedSource);
  return { feedUrl: checked.url, offReason: null, prerelease, feedSource, ...timing };
}

/** The feed URL as a folder URL ending in '/', or what is wrong with it. */
export function checkFeedUrl(raw: string): { url: string } | { problem: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problem: 'is not a URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { problem: 'must start with https://' };
  // The feed names the sha512 of every download: over plain HTTP anyone on the path could change
  // both. Only this machine's own loopback may be plain HTTP (tests, a local mirror).
  if (url.protocol === 'http:' && !isLoopback(url.hostname))
    return { problem: 'must use https:// (plain http is allowed for localhost only)' };
  if (url.username || url.password) return { problem: 'must not carry a user name or password' };
  url.search = '';
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return { url: url.toString() };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function readSettings(saved: unknown): UpdateSettings | string {
  if (saved === undefined || saved === null) return {};
  if (typeof saved !== 'object' || Array.isArray(saved)) return 'settings.updates in config.json must be an object';
  const o = saved as Record<string, unknown>;
  const out: UpdateSettings = {};
  for (const [key, value] of Object.entries(o)) {
    if (key === 'url') {
      if (typeof value !== 'string') return 'settings.updates.url in config.json must be a string';
      out.url = value;
    } else if (key === 'check' || key === 'prerelease') {
      if (typeof value !== 'boolean') return `settings.updates.${key} in config.json must be true or false`;
      out[key] = value;
    } else {
      return `settings.updates.${key} in config.json is not a setting (url, check, prerelease)`;
    }
  }
  return out;
}

function msFromEnv(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const n = Number(text);
  return Number.isInteger(n) && n >= 0 && n <= 7 * 86400_000 ? n : undefined;
}
