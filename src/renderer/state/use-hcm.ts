import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { HcmState, HcmStore } from './store.js';

export const HcmStoreContext = createContext<HcmStore | null>(null);

/** Reads a slice of the store; re-renders only when that slice changes. */
export function useHcm<T>(selector: (state: HcmState) => T): T {
  const store = useContext(HcmStoreContext);
  if (!store) throw new Error('useHcm must be used inside <HcmStoreContext.Provider>');
  return useStore(store, selector);
}
