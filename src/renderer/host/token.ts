/**
 * The browser host prints a URL ending in `#token=…`. The fragment never reaches the server's
 * access logs or Referer headers; we move the token into sessionStorage (so a reload keeps
 * working in this tab) and strip it from the address bar so it does not end up in screenshots
 * or shared links.
 */
const STORAGE_KEY = 'hcm.token';

export interface TokenPlace {
  location: Pick<Location, 'hash' | 'pathname' | 'search'>;
  storage: Pick<Storage, 'getItem' | 'setItem'>;
  history: Pick<History, 'replaceState'>;
}

export function takeToken({ location, storage, history }: TokenPlace): string | null {
  const fromHash = new URLSearchParams(location.hash.replace(/^#/, '')).get('token');
  if (fromHash) {
    storage.setItem(STORAGE_KEY, fromHash);
    history.replaceState(null, '', `${location.pathname}${location.search}`);
    return fromHash;
  }
  return storage.getItem(STORAGE_KEY);
}
