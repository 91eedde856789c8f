import type { ChildProcess } from 'node:child_process';

/** Sends a request to a helper process and resolves with its next reply carrying `key`. */
export function ask<T extends Record<string, unknown>>(
  child: ChildProcess,
  request: string,
  key: keyof T & string,
  timeoutMs = 10_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => {
      if (m && typeof m === 'object' && key in m) {
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(m as T);
      }
    };
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`helper did not answer "${request}" within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.send(request);
  });
}
