/** What the client knows about its way to the relay. */
export type Connectivity = 'online' | 'offline' | 'relay-unreachable';

/**
 * Offline detection: folds the outcome of every relay request and the OS's own view
 * (Electron's `net.isOnline()` / online-offline events, when given) into one state, and tells
 * listeners when it changes so the UI can say "You are offline" and the stream can reconnect.
 */
export class ConnectivityMonitor {
  #state: Connectivity = 'online';
  readonly #listeners = new Set<(s: Connectivity) => void>();

  /** The current state. */
  get state(): Connectivity {
    return this.#state;
  }

  /** Records one request outcome (RelayApi's onReachability). */
  report(reachable: boolean, offline: boolean): void {
    this.#set(reachable ? 'online' : offline ? 'offline' : 'relay-unreachable');
  }

  /** Records the operating system's online flag. */
  reportSystem(isOnline: boolean): void {
    if (!isOnline) this.#set('offline');
    else if (this.#state === 'offline') this.#set('online');
  }

  /** Subscribes; returns the unsubscribe function. */
  onChange(listener: (s: Connectivity) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #set(next: Connectivity): void {
    if (next === this.#state) return;
    this.#state = next;
    for (const l of this.#listeners) l(next);
  }
}
