import type { HcmEvent, HcmEvents } from './api.js';

/** The listeners behind an HcmHost's `on`, for proxies of a host that receive its events from elsewhere. */
export class EventListeners {
  private readonly byEvent = new Map<HcmEvent, Set<(payload: unknown) => void>>();

  /** Adds a listener; the returned function removes it. */
  on<E extends HcmEvent>(event: E, listener: (payload: HcmEvents[E]) => void): () => void {
    let set = this.byEvent.get(event);
    if (!set) this.byEvent.set(event, (set = new Set()));
    const added = listener as (payload: unknown) => void;
    set.add(added);
    return () => set.delete(added);
  }

  emit(event: HcmEvent, payload: unknown): void {
    for (const listener of this.byEvent.get(event) ?? []) listener(payload);
  }
}
