import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Opening a page in the user's browser from a terminal: only where one can open (a desktop
 * session), so `hcm login` on a server over SSH uses a device code instead of failing.
 */

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, command)));
}

export function browserOpener(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string[] | null {
  if (env.HCM_NO_BROWSER) return null;
  if (platform === 'darwin') return ['open'];
  if (platform === 'win32') return ['cmd', '/c', 'start', '""'];
  const desktop = env.DISPLAY || env.WAYLAND_DISPLAY;
  if (desktop && onPath('xdg-open')) return ['xdg-open'];
  return null;
}

export function openInBrowser(url: string, command: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, [...command.slice(1), url], { stdio: 'ignore', detached: true });
    child.once('error', reject);
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}
