/** Test, restart (and retry now) and remove for one connection or several, with the feedback each gives. */
import { useCallback } from 'react';
import type { ConnectionSummary, TestResult } from '../../shared/api.js';
import { messageOf } from '../errors.js';
import { useHcm } from '../state/use-hcm.js';
import { useNotify, useNotifyError } from './notify.js';

/** "orders", "orders and billing", "3 connections". */
export function namesOf(list: readonly ConnectionSummary[]): string {
  if (list.length === 1) return list[0]!.name;
  if (list.length === 2) return `${list[0]!.name} and ${list[1]!.name}`;
  return `${list.length} connections`;
}

export interface Outcome<T> {
  connection: ConnectionSummary;
  ok: boolean;
  value?: T;
  error?: string;
  /** The rejection itself (it may carry the contract's code). */
  cause?: unknown;
}

export function useConnectionActions() {
  const hcm = useHcm((s) => s.hcm);
  const setTest = useHcm((s) => s.setTest);
  const announce = useHcm((s) => s.announce);
  const notify = useNotify();
  const notifyError = useNotifyError();

  const each = useCallback(async <T>(list: readonly ConnectionSummary[], call: (id: string) => Promise<T>): Promise<Array<Outcome<T>>> => {
    const settled = await Promise.allSettled(list.map((c) => call(c.id)));
    return settled.map((r, i) =>
      r.status === 'fulfilled'
        ? { connection: list[i]!, ok: true, value: r.value }
        : { connection: list[i]!, ok: false, error: messageOf(r.reason), cause: r.reason },
    );
  }, []);

  /** Runs the tests side by side; each result is kept with its connection (the details show it again). */
  const test = useCallback(
    async (list: readonly ConnectionSummary[]): Promise<Array<Outcome<TestResult>>> => {
      const outcomes = await each(list, (id) => hcm.testConnection(id));
      for (const o of outcomes) {
        if (o.value) setTest(o.connection.id, o.value);
        else notifyError(`Could not test ${o.connection.name}`, o.cause);
      }
      return outcomes;
    },
    [hcm, each, notifyError, setTest],
  );

  const restart = useCallback(
    async (list: readonly ConnectionSummary[]): Promise<boolean> => {
      const outcomes = await each(list, (id) => hcm.restartConnection(id));
      const done = outcomes.filter((o) => o.ok).map((o) => o.connection);
      for (const o of outcomes) if (!o.ok) notifyError(`Could not restart ${o.connection.name}`, o.cause);
      if (done.length > 0) {
        notify('success', `Restarted ${namesOf(done)} ✓`, 'It connects to the relay again by itself.');
        announce(`Restarted ${namesOf(done)}.`);
      }
      return done.length === list.length;
    },
    [announce, hcm, each, notify, notifyError],
  );

  /** "Retry now" for a connection waiting out its backoff: the restart it is, said as a retry. */
  const retry = useCallback(
    async (c: ConnectionSummary): Promise<boolean> => {
      try {
        await hcm.restartConnection(c.id);
        announce(`Retrying ${c.name} now.`);
        return true;
      } catch (err) {
        notifyError(`Could not retry ${c.name}`, err);
        return false;
      }
    },
    [announce, hcm, notifyError],
  );

  const remove = useCallback(
    async (list: readonly ConnectionSummary[]): Promise<boolean> => {
      const outcomes = await each(list, (id) => hcm.removeConnection(id));
      const done = outcomes.filter((o) => o.ok).map((o) => o.connection);
      for (const o of outcomes) if (!o.ok) notifyError(`Could not remove ${o.connection.name}`, o.cause);
      if (done.length > 0) notify('success', `Removed ${namesOf(done)}`);
      return done.length === list.length;
    },
    [hcm, each, notify, notifyError],
  );

  return { test, restart, retry, remove };
}
