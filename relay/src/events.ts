import { EventEmitter } from 'node:events';

/** A status change pushed to devices: the new binding or purchase status of an owner. */
export interface StatusEvent {
  kind: 'binding' | 'purchase' | 'refund';
  owner: string;
  id: string;
  version: number;
  status: Record<string, unknown>;
}

/**
 * In-process fan-out of status changes to SSE streams and long-polls. Changes made by other
 * relay processes reach it through the cross-process watcher (`startChangeWatcher` in
 * change-watcher.ts: PostgreSQL LISTEN/NOTIFY, with polling as the fallback), so a device is
 * told wherever the change happened.
 */
export class EventHub {
  readonly #emitter = new EventEmitter();
  /** Highest version published per `kind:id`, so the watcher does not repeat a change. */
  readonly #seen = new Map<string, number>();
  /** True while the watcher publishes changes read from the database (made by another process). */
  #replaying = false;
  /** Subscriptions open now (streams' owners and long-polls' objects), kept as a count so asking costs nothing. */
  #waiting = 0;
  /** Told of every change this process made (not those the watcher replays): the watcher announces them to the other relay processes. */
  onLocalChange: ((event: StatusEvent) => void) | undefined;

  constructor() {
    this.#emitter.setMaxListeners(0);
  }

  /** Publishes a change unless an equal or newer version was already published. */
  publish(event: StatusEvent): void {
    // Announced before the repeat check: the fallback poll may have read (and published) a row
    // this process committed before its own publish ran; the other processes still need telling.
    if (!this.#replaying) this.onLocalChange?.(event);
    const key = `${event.kind}:${event.id}`;
    if ((this.#seen.get(key) ?? -1) >= event.version) return;
    this.#seen.set(key, event.version);
    if (this.#seen.size > 50_000) this.#seen.clear();
    this.#emitter.emit(`owner:${event.owner}`, event);
    this.#emitter.emit(`${key}`, event);
  }

  /**
   * Runs `fn` (synchronous: a repository's `publish` of rows read from the database) with its
   * publishes marked as another process's changes, so they are not announced again.
   */
  replay(fn: () => void): void {
    this.#replaying = true;
    try {
      fn();
    } finally {
      this.#replaying = false;
    }
  }

  /** Whether a change of `kind:id` owned by `owner`, at `version`, would reach anyone here. */
  wants(kind: StatusEvent['kind'], id: string, owner: string, version: number): boolean {
    const key = `${kind}:${id}`;
    if ((this.#seen.get(key) ?? -1) >= version) return false;
    return this.#emitter.listenerCount(`owner:${owner}`) > 0 || this.#emitter.listenerCount(key) > 0;
  }

  /**
   * How many streams and long-polls of this process wait for changes now. The watcher does no
   * work for another process's change (no parse, no read) while it is 0: read per notification,
   * so it is a counter, not a walk over the emitter's listeners.
   */
  get listenerCount(): number {
    return this.#waiting;
  }

  /** Subscribes to every change of an owner; returns the unsubscribe function (idempotent). */
  onOwner(owner: string, listener: (event: StatusEvent) => void): () => void {
    this.#emitter.on(`owner:${owner}`, listener);
    this.#waiting += 1;
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      this.#waiting -= 1;
      this.#emitter.off(`owner:${owner}`, listener);
    };
  }

  /** Resolves at the next change of one object, or after `timeoutMs` (with undefined). */
  waitFor(kind: StatusEvent['kind'], id: string, timeoutMs: number, signal?: AbortSignal): Promise<StatusEvent | undefined> {
    return new Promise((resolve) => {
      const key = `${kind}:${id}`;
      let waiting = true;
      const done = (event?: StatusEvent): void => {
        if (!waiting) return;
        waiting = false;
        this.#waiting -= 1;
        clearTimeout(timer);
        this.#emitter.off(key, done);
        signal?.removeEventListener('abort', onAbort);
        resolve(event);
      };
      const onAbort = (): void => done();
      this.#waiting += 1;
      const timer = setTimeout(done, timeoutMs);
      this.#emitter.on(key, done);
      signal?.addEventListener('abort', onAbort);
    });
  }
}
