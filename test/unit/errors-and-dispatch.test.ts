import { describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_NO_AGENT, EXIT_USAGE, exitCodeFor } from '../../src/cli/exit.js';
import { RELAY_ERROR_CODES, RelayError } from '../../src/relay/errors.js';
import { HCM_METHODS, type HcmApi } from '../../src/shared/api.js';
import { answerWireMessage, dispatchCall } from '../../src/shared/dispatch.js';
import { ERROR_TITLES, HCM_ERROR_CODES, HcmError, errorCode } from '../../src/shared/errors.js';

describe('error codes', () => {
  it('every code has its own heading for people and an exit status', () => {
    const titles = new Set<string>();
    for (const code of HCM_ERROR_CODES) {
      expect(ERROR_TITLES[code], code).toMatch(/^[A-Z][a-z]/);
      titles.add(ERROR_TITLES[code]);
      expect([EXIT_FAILURE, EXIT_USAGE, EXIT_NO_AGENT], code).toContain(exitCodeFor(code));
    }
    expect(titles.size).toBe(HCM_ERROR_CODES.length);
    expect(Object.keys(ERROR_TITLES).sort()).toEqual([...HCM_ERROR_CODES].sort());
  });

  it('the CLI exits 2 for usage, 3 when it needs an agent, 1 otherwise', () => {
    expect(exitCodeFor('E_USAGE')).toBe(2);
    expect(exitCodeFor('E_ARGS')).toBe(2);
    expect(exitCodeFor('E_NO_AGENT')).toBe(3);
    expect(exitCodeFor('E_UNAUTHORIZED')).toBe(1);
  });

  it('every code the relay raises is a contract code', () => {
    for (const code of RELAY_ERROR_CODES) expect(HCM_ERROR_CODES, code).toContain(code);
  });

  it('reads the code of what was thrown, and calls anything else internal', () => {
    expect(errorCode(new RelayError('E_UNAUTHORIZED', 'x'))).toBe('E_UNAUTHORIZED');
    expect(errorCode(new HcmError('E_CONFIG', 'x'))).toBe('E_CONFIG');
    expect(errorCode(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe('E_INTERNAL');
    expect(errorCode(null)).toBe('E_INTERNAL');
    expect(errorCode('text')).toBe('E_INTERNAL');
  });
});

/** A service whose every method records its call and answers with a fixed result or error. */
function recordingApi(behaviour: (method: string, args: unknown[]) => unknown): { api: HcmApi; calls: Array<[string, unknown[]]> } {
  const calls: Array<[string, unknown[]]> = [];
  const api = Object.fromEntries(
    HCM_METHODS.map((m) => [
      m,
      async (...args: unknown[]) => {
        calls.push([m, args]);
        return behaviour(m, args);
      },
    ]),
  ) as unknown as HcmApi;
  return { api, calls };
}

describe('the dispatcher', () => {
  it('checks the method and the arguments before the service sees anything', async () => {
    const { api, calls } = recordingApi(() => 'result');
    expect(await dispatchCall(api, 'toString', [])).toMatchObject({ ok: false, code: 'E_NO_METHOD' });
    expect(await dispatchCall(api, 'getConnection', [42])).toMatchObject({ ok: false, code: 'E_ARGS' });
    expect(await dispatchCall(api, 'getConnection', null)).toMatchObject({ ok: false, code: 'E_ARGS' });
    expect(calls).toEqual([]);
    expect(await dispatchCall(api, 'getConnection', ['ns/a'])).toEqual({ ok: true, result: 'result' });
    expect(calls).toEqual([['getConnection', ['ns/a']]]);
  });

  it('turns errors into envelopes with the error code, and reports unexpected ones', async () => {
    const internal: string[] = [];
    const { api } = recordingApi((m) => {
      if (m === 'listConnections') throw new HcmError('E_CONFIG', 'config.json: is empty');
      throw new TypeError("Cannot read properties of null (reading 'id')");
    });
    const onInternalError = (method: string) => internal.push(method);
    expect(await dispatchCall(api, 'listConnections', [], { onInternalError })).toEqual({
      ok: false,
      error: 'config.json: is empty',
      code: 'E_CONFIG',
    });
    expect(await dispatchCall(api, 'getAppInfo', [], { onInternalError })).toMatchObject({ ok: false, code: 'E_INTERNAL' });
    expect(internal).toEqual(['getAppInfo']);
  });

  it('answers any wire message, however broken, without throwing', async () => {
    const { api } = recordingApi(() => null);
    for (const text of ['', 'null', 'true', '"text"', '[1,2]', '{"id":"1"}', '{"id":1.5}', '{', 'x'.repeat(1000)]) {
      const reply = await answerWireMessage(api, text);
      expect(reply, text).toMatchObject({ id: -1, ok: false, code: 'E_BAD_REQUEST' });
    }
    expect(await answerWireMessage(api, '{"id":7,"method":"getLogs","args":[{"limit":"all"}]}')).toMatchObject({
      id: 7,
      ok: false,
      code: 'E_ARGS',
    });
    expect(await answerWireMessage(api, '{"id":8,"method":"listConnections","args":[]}')).toEqual({ id: 8, ok: true, result: null });
  });

  it('handles subscribe only where the transport supports it, with known events only', async () => {
    const { api } = recordingApi(() => null);
    const subscribed: string[][] = [];
    const subscribe = (events: string[]) => subscribed.push(events);
    expect(await answerWireMessage(api, '{"id":1,"method":"subscribe","args":["log"]}')).toMatchObject({ code: 'E_NO_METHOD' });
    expect(await answerWireMessage(api, '{"id":2,"method":"subscribe","args":["log","log","update"]}', { subscribe })).toEqual({
      id: 2,
      ok: true,
      result: ['log', 'update'],
    });
    expect(await answerWireMessage(api, '{"id":3,"method":"subscribe","args":["nope"]}', { subscribe })).toMatchObject({
      code: 'E_ARGS',
    });
    expect(subscribed).toEqual([['log', 'update']]);
  });
});
