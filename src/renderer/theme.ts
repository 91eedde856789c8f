import { type Theme, webDarkTheme, webLightTheme } from '@fluentui/react-components';
import { useEffect, useState } from 'react';

const DARK_QUERY = '(prefers-color-scheme: dark)';

/** Fluent's light or dark theme, following the operating system and changing with it. */
export function useOsTheme(): { theme: Theme; dark: boolean } {
  const [dark, setDark] = useState(() => window.matchMedia(DARK_QUERY).matches);
  useEffect(() => {
    const query = window.matchMedia(DARK_QUERY);
    const onChange = () => setDark(query.matches);
    query.addEventListener('change', onChange);
    return () => query.removeEventListener('change', onChange);
  }, []);
  return { theme: dark ? webDarkTheme : webLightTheme, dark };
}

/** True while the viewport is narrower than `px` CSS pixels (e.g. a small window or 200% zoom). */
export function useNarrow(px: number): boolean {
  const query = `(max-width: ${px - 0.02}px)`;
  const [narrow, setNarrow] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const mql = window.matchMedia(query);
    const onChange = () => setNarrow(mql.matches);
    onChange();
    mql.addEventListener('change', onChange);
    return () => mql.removeEventListener('change', onChange);
  }, [query]);
  return narrow;
}
