/**
 * Small choices kept in this browser (or the desktop app's window) across reloads: which update
 * banner was dismissed, whether "Updated to X" was shown. localStorage is per origin, so in the
 * browser UI they last as long as `hcm ui` keeps its port; where storage is off, they last the page.
 */

export const DISMISSED_UPDATE_KEY = 'hcm.updateBanner.dismissed';
export const UPDATED_SEEN_KEY = 'hcm.updatedNotice.seen';

const fallback = new Map<string, string>();

export function recall(key: string): string | null {
  try {
    return window.localStorage.getItem(key) ?? fallback.get(key) ?? null;
  } catch {
    return fallback.get(key) ?? null;
  }
}

export function remember(key: string, value: string): void {
  fallback.set(key, value);
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // Storage turned off or full: the choice lasts this page.
  }
}
