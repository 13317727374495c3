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
 * relay processes reach it through the cross-process watcher (see `startChangeWatcher`), so
 * a device is told within about a second wherever the change happened.
 */
export class EventHub {
  readonly #emitter = new EventEmitter();
  /** Highest version published per `kind:id`, so the watcher does not repeat a change. */
  readonly #seen = new Map<string, number>();

  constructor() {
    this.#emitter.setMaxListeners(0);
  }

  /** Publishes a change unless an equal or newer version was already published. */
  publish(event: StatusEvent): void {
    const key = `${event.kind}:${event.id}`;
    if ((this.#seen.get(key) ?? -1) >= event.version) return;
    this.#seen.set(key, event.version);
    if (this.#seen.size > 50_000) this.#seen.clear();
    this.#emitter.emit(`owner:${event.owner}`, event);
    this.#emitter.emit(`${key}`, event);
  }

  /** Whether anything listens for an owner (the watcher only looks when someone does). */
  get listenerCount(): number {
    return this.#emitter.eventNames().reduce((n, name) => n + this.#emitter.listenerCount(name), 0);
  }

  /** Subscribes to every change of an owner; returns the unsubscribe function. */
  onOwner(owner: string, listener: (event: StatusEvent) => void): () => void {
    this.#emitter.on(`owner:${owner}`, listener);
    return () => this.#emitter.off(`owner:${owner}`, listener);
  }

  /** Resolves at the next change of one object, or after `timeoutMs` (with undefined). */
  waitFor(kind: StatusEvent['kind'], id: string, timeoutMs: number, signal?: AbortSignal): Promise<StatusEvent | undefined> {
    return new Promise((resolve) => {
      const key = `${kind}:${id}`;
      const done = (event?: StatusEvent): void => {
        clearTimeout(timer);
        this.#emitter.off(key, done);
        signal?.removeEventListener('abort', onAbort);
        resolve(event);
      };
      const onAbort = (): void => done();
      const timer = setTimeout(done, timeoutMs);
      this.#emitter.on(key, done);
      signal?.addEventListener('abort', onAbort);
    });
  }
}
