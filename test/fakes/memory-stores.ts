import type { Logger, PendingIntentStore, SecretStore, SettingsStore } from '../../main/services/ports.ts';

/** An in-memory keychain that can be locked or made unavailable like a real one. */
export class MemorySecretStore implements SecretStore {
  readonly entries = new Map<string, string>();
  mode: 'ok' | 'locked' | 'unavailable' = 'ok';

  #check(): void {
    if (this.mode === 'locked') throw new Error('Cannot create an item in a locked collection');
    if (this.mode === 'unavailable') throw new Error('Cannot autolaunch D-Bus without X11 $DISPLAY');
  }
  async get(service: string, account: string) {
    // A real locked Secret Service collection answers reads with nothing, not an error.
    if (this.mode === 'locked') return null;
    this.#check();
    return this.entries.get(`${service}/${account}`) ?? null;
  }
  async set(service: string, account: string, secret: string) {
    this.#check();
    this.entries.set(`${service}/${account}`, secret);
  }
  async delete(service: string, account: string) {
    this.#check();
    return this.entries.delete(`${service}/${account}`);
  }
}

/** An in-memory settings document. */
export class MemorySettingsStore implements SettingsStore {
  doc: unknown;
  writes = 0;
  constructor(doc: unknown = {}) {
    this.doc = doc;
  }
  load() {
    return this.doc;
  }
  save(value: Readonly<Record<string, unknown>>) {
    this.writes++;
    this.doc = JSON.parse(JSON.stringify(value));
  }
}

/**
 * An in-memory pending-intent store that survives a "restart" when shared. Like the file store,
 * operations take effect in call order; `hold()` stalls them (a slow disk) until released.
 */
export class MemoryPendingStore<T> implements PendingIntentStore<T> {
  readonly map = new Map<string, T>();
  #chain: Promise<unknown> = Promise.resolve();
  /** Operations called and not yet applied. */
  queued = 0;
  #serial<R>(op: () => R): Promise<R> {
    this.queued++;
    const next = this.#chain.then(() => {
      this.queued--;
      return op();
    });
    this.#chain = next.catch(() => undefined);
    return next;
  }
  /** Holds every later operation until the returned function is called (never: main died first). */
  hold(): () => void {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#chain = this.#chain.then(() => gate);
    return release;
  }
  list() {
    return this.#serial(() => [...this.map.values()].map((v) => structuredClone(v)));
  }
  put(id: string, value: T) {
    const copy = structuredClone(value);
    return this.#serial(() => {
      this.map.set(id, copy);
    });
  }
  remove(id: string) {
    return this.#serial(() => {
      this.map.delete(id);
    });
  }
}

/** A logger that keeps lines for assertions. */
export class MemoryLogger implements Logger {
  readonly lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  debug = (message: string, fields?: Record<string, unknown>) => this.lines.push({ level: 'debug', message, fields });
  info = (message: string, fields?: Record<string, unknown>) => this.lines.push({ level: 'info', message, fields });
  warn = (message: string, fields?: Record<string, unknown>) => this.lines.push({ level: 'warn', message, fields });
  error = (message: string, fields?: Record<string, unknown>) => this.lines.push({ level: 'error', message, fields });
}
