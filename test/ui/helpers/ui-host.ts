import { createInterface } from 'node:readline';
import { type HcmEnv, type RunningProcess, startHcm } from '../../helpers/agent.js';

/** `hcm ui` as a real process: the browser host the UI tests drive. */
export interface UiHost extends RunningProcess {
  url: string;
  port: number;
  token: string;
}

export async function startUiHost(env: HcmEnv, args: string[] = []): Promise<UiHost> {
  const host = startHcm(env, ['ui', '--port', '0', '--grace', '1', ...args]);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: host.proc.stdout! }).on('line', (l) => l.startsWith('HCM UI: ') && resolve(l));
    void host.exited.then((code) => reject(new Error(`hcm ui exited with ${code} before printing its address:\n${host.output()}`)));
  });
  const match = /^HCM UI: (http:\/\/127\.0\.0\.1:(\d+)\/#token=([A-Za-z0-9_-]+))$/.exec(line);
  if (!match) throw new Error(`unexpected first line from hcm ui: ${line}`);
  return { ...host, url: match[1]!, port: Number(match[2]), token: match[3]! };
}
