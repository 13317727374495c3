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

/** An in-memory pending-intent store that survives a "restart" when shared. */
export class MemoryPendingStore<T> implements PendingIntentStore<T> {
  readonly map = new Map<string, T>();
  async list() {
    return [...this.map.values()].map((v) => structuredClone(v));
  }
  async put(id: string, value: T) {
    this.map.set(id, structuredClone(value));
  }
  async remove(id: string) {
    this.map.delete(id);
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
