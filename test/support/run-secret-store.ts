import { createKeytarSecretStore } from '../../main/adapters/secret-store.keytar.ts';
import type { SecretStore } from '../../main/services/ports.ts';
import { MemorySecretStore } from '../fakes/memory-stores.ts';

/** Which keychain the client tests use: keytar on a D-Bus session (CI always), else memory. */
export function secretStoreKind(): 'keytar' | 'memory' {
  return process.env.DBUS_SESSION_BUS_ADDRESS ? 'keytar' : 'memory';
}

/**
 * The OS keychain (or memory without a D-Bus session) under a service name of this run only, so
 * parallel test files and the developer's own entries are never touched. Records every value
 * written (to prove no token is ever stored) and removes what it wrote on `wipe()`.
 */
export class RunSecretStore implements SecretStore {
  readonly written: string[] = [];
  readonly #inner: SecretStore;
  readonly #suffix: string;
  readonly #used = new Set<string>();
  constructor(label: string, inner: SecretStore = secretStoreKind() === 'keytar' ? createKeytarSecretStore() : new MemorySecretStore()) {
    this.#inner = inner;
    this.#suffix = `-${label}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  }
  get(service: string, account: string) {
    return this.#inner.get(`${service}${this.#suffix}`, account);
  }
  set(service: string, account: string, secret: string) {
    this.written.push(secret);
    this.#used.add(`${service}\u0000${account}`);
    return this.#inner.set(`${service}${this.#suffix}`, account, secret);
  }
  delete(service: string, account: string) {
    return this.#inner.delete(`${service}${this.#suffix}`, account);
  }
  /** Removes every entry this run wrote. */
  async wipe(): Promise<void> {
    for (const key of this.#used) {
      const [service, account] = key.split('\u0000') as [string, string];
      await this.delete(service, account).catch(() => false);
    }
  }
}
