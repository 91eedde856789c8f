import type { UpdateState } from '../shared/api.js';
import { VERSION } from './version.js';

/**
 * How a host checks for and installs new versions. The desktop app plugs in electron-updater
 * (src/main); command-line hosts are updated by whatever installed them (npm, a package manager).
 */
export interface UpdateProvider {
  getState(): UpdateState;
  check(): Promise<UpdateState>;
  install(): Promise<void>;
  onChange(listener: (state: UpdateState) => void): void;
}

export function unsupportedUpdates(
  reason = 'this host was started from the command line; update it the way it was installed (e.g. npm install -g open-hcm)',
): UpdateProvider {
  const state: UpdateState = { state: 'unsupported', currentVersion: VERSION, reason };
  return {
    getState: () => state,
    check: async () => state,
    install: async () => {
      throw new Error(reason);
    },
    onChange: () => undefined,
  };
}
