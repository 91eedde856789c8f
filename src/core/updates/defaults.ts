/**
 * Where updates come from and how often they are looked for, unless settings or the environment
 * say otherwise (settings.ts). The feed URL is the `publish.url` of electron-builder.yml, which
 * electron-builder writes into the desktop app's app-update.yml; a unit test keeps the two equal.
 */

/**
 * The update feed built into this version. Hosts under `.invalid` (RFC 6761) are never contacted:
 * a build made before the real download location is set reports "no update feed configured".
 */
export const BUILT_IN_FEED_URL = 'https://updates.example.invalid/open-hcm/';

/** A check at start, then about every 12 hours (± 1 hour, so a fleet restarted together spreads out). */
export const CHECK_INTERVAL_MS = 12 * 3600_000;
export const CHECK_JITTER_MS = 3600_000;
/** The first check waits this long after start (plus up to the same again), so it never competes with connecting. */
export const FIRST_CHECK_DELAY_MS = 3_000;
/** After a failed check: retry after 15 minutes, doubling up to the regular interval. */
export const RETRY_DELAY_MS = 15 * 60_000;

/** Feed and download limits. */
export const FEED_MAX_BYTES = 1024 * 1024;
export const FEED_TIMEOUT_MS = 30_000;
/** `hcm version` asks the feed briefly; it never waits long for an answer. */
export const QUICK_CHECK_TIMEOUT_MS = 3_000;
