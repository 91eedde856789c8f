import { describe, expect, it } from 'vitest';
import { displayPath, hcmPaths } from '../../src/core/paths.js';

describe('hcmPaths', () => {
  it('follows XDG on Linux, with the defaults when the variables are unset or relative', () => {
    const xdg = hcmPaths({ XDG_CONFIG_HOME: '/cfg', XDG_STATE_HOME: '/state', XDG_DATA_HOME: '/data' }, 'linux', '/home/ann');
    expect(xdg).toMatchObject({
      home: '/cfg/open-hcm',
      configFile: '/cfg/open-hcm/config.json',
      secretsFile: '/cfg/open-hcm/secrets.json',
      logDir: '/state/open-hcm',
      controlSocket: '/cfg/open-hcm/hcm.sock',
      emulatorStateDir: '/data/open-hcm/emulator',
    });
    const defaults = hcmPaths({ XDG_CONFIG_HOME: 'relative/ignored' }, 'linux', '/home/ann');
    expect(defaults).toMatchObject({
      home: '/home/ann/.config/open-hcm',
      logDir: '/home/ann/.local/state/open-hcm',
      emulatorStateDir: '/home/ann/.local/share/open-hcm/emulator',
    });
  });

  it('uses %APPDATA% and %LOCALAPPDATA% on Windows, and a named pipe for the control socket', () => {
    const p = hcmPaths(
      { APPDATA: 'C:\\Users\\ann\\AppData\\Roaming', LOCALAPPDATA: 'C:\\Users\\ann\\AppData\\Local' },
      'win32',
      'C:\\Users\\ann',
    );
    expect(p.home).toBe('C:\\Users\\ann\\AppData\\Roaming\\open-hcm\\Config');
    expect(p.secretsFile).toBe('C:\\Users\\ann\\AppData\\Roaming\\open-hcm\\Config\\secrets.json');
    expect(p.logDir).toBe('C:\\Users\\ann\\AppData\\Local\\open-hcm\\Log');
    expect(p.controlSocket).toMatch(/^\\\\\.\\pipe\\open-hcm-[0-9a-f]{16}$/);
  });

  it('uses ~/Library on macOS', () => {
    const p = hcmPaths({}, 'darwin', '/Users/ann');
    expect(p.home).toBe('/Users/ann/Library/Preferences/open-hcm');
    expect(p.logDir).toBe('/Users/ann/Library/Logs/open-hcm');
    expect(p.emulatorStateDir).toBe('/Users/ann/Library/Application Support/open-hcm/emulator');
  });

  it('puts everything under HCM_HOME when it is set', () => {
    expect(hcmPaths({ HCM_HOME: '/srv/hcm' }, 'linux', '/home/ann')).toEqual({
      home: '/srv/hcm',
      configFile: '/srv/hcm/config.json',
      secretsFile: '/srv/hcm/secrets.json',
      logDir: '/srv/hcm/logs',
      controlSocket: '/srv/hcm/hcm.sock',
      controlSocketDir: '/srv/hcm',
      emulatorStateDir: '/srv/hcm/emulator',
    });
  });

  it('moves a socket path too long for Unix to a private folder: $XDG_RUNTIME_DIR, else one named after the uid in tmp', () => {
    const deep = `/srv/${'x'.repeat(120)}`;
    const runtime = hcmPaths({ HCM_HOME: deep, XDG_RUNTIME_DIR: '/run/user/1000' }, 'linux', '/home/ann', { uid: 1000, tmp: '/tmp' });
    expect(runtime.controlSocketDir).toBe('/run/user/1000/open-hcm');
    expect(runtime.controlSocket).toMatch(/^\/run\/user\/1000\/open-hcm\/[0-9a-f]{16}\.sock$/);
    const tmp = hcmPaths({ HCM_HOME: deep }, 'linux', '/home/ann', { uid: 1000, tmp: '/tmp' });
    expect(tmp.controlSocketDir).toBe('/tmp/open-hcm-1000');
    expect(tmp.controlSocket).toMatch(/^\/tmp\/open-hcm-1000\/[0-9a-f]{16}\.sock$/);
    // Never directly in the shared tmp folder, where another user could create it first.
    expect(tmp.controlSocket.startsWith('/tmp/open-hcm-') && !tmp.controlSocket.slice('/tmp/'.length).includes('.sock/')).toBe(true);
    expect(tmp.controlSocket.split('/').length).toBe(4);
  });

  it('shows paths under the home folder as ~/…', () => {
    expect(displayPath('/home/ann/.config/open-hcm', '/home/ann')).toBe('~/.config/open-hcm');
    expect(displayPath('/home/anna/x', '/home/ann')).toBe('/home/anna/x');
    expect(displayPath('/srv/hcm', '/home/ann')).toBe('/srv/hcm');
  });
});
