/**
 * Validates the connection string while it is typed: waits for a pause, asks the host, and
 * drops answers that arrive after the text changed again.
 */
import { useEffect, useRef, useState } from 'react';
import type { HcmHost, ValidationResult } from '../shared/api.js';

export type ValidationView =
  { state: 'empty' } | { state: 'checking' } | { state: 'done'; result: ValidationResult } | { state: 'failed'; message: string };

const PAUSE_MS = 300;

export function useConnectionStringValidation(hcm: HcmHost, text: string): ValidationView {
  const [view, setView] = useState<ValidationView>({ state: 'empty' });
  const latest = useRef(0);
  useEffect(() => {
    const request = ++latest.current;
    if (text.trim() === '') {
      setView({ state: 'empty' });
      return;
    }
    setView({ state: 'checking' });
    const timer = setTimeout(() => {
      hcm.validateConnectionString(text.trim()).then(
        (result) => request === latest.current && setView({ state: 'done', result }),
        (err: Error) => request === latest.current && setView({ state: 'failed', message: err.message }),
      );
    }, PAUSE_MS);
    return () => clearTimeout(timer);
  }, [hcm, text]);
  return view;
}
