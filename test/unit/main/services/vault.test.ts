import { DomainError } from '@scan-to-bind/shared/domain';
import { describe, expect, it } from 'vitest';
import type { SecretStore } from '../../../../main/services/ports.ts';
import { bindingAccount, keychainError, rememberedCredential, Vault } from '../../../../main/services/vault.ts';
import { MemorySecretStore, MemorySettingsStore } from '../../../fakes/memory-stores.ts';

const cred = { relayUrl: 'http://127.0.0.1:8787', deviceId: 'dev_1', deviceSecret: 's'.repeat(43), kind: 'launcher' as const };

/** A keychain that records each call ("get scan-to-bind/relay-device", "set …/probe"). */
function counting(inner: SecretStore): SecretStore & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    get: (s, a) => {
      calls.push(`get ${s}/${a}`);
      return inner.get(s, a);
    },
    set: (s, a, v) => {
      calls.push(`set ${s}/${a}`);
      return inner.set(s, a, v);
    },
    delete: (s, a) => {
      calls.push(`delete ${s}/${a}`);
      return inner.delete(s, a);
    },
  };
}

describe('Vault', () => {
  it('keeps the device credential and per-player binding references', async () => {
    const store = new MemorySecretStore();
    const vault = new Vault(store);
    expect(await vault.deviceCredential()).toBeNull();
    await vault.setDeviceCredential(cred);
    expect(await vault.deviceCredential()).toEqual(cred);
    await vault.setBindingRef('player-a', 'bnd_abcdefgh');
    expect(await vault.bindingRef('player-a')).toBe('bnd_abcdefgh');
    expect(await vault.bindingRef('player-b')).toBeNull();
    await vault.clearBindingRef('player-a');
    expect(await vault.bindingRef('player-a')).toBeNull();
  });

  it('stores only opaque ids as binding references, never token-like values', async () => {
    const vault = new Vault(new MemorySecretStore());
    await expect(vault.setBindingRef('p', 'eyJhbGciOi.token.value')).rejects.toThrow();
    await expect(vault.setBindingRef('p', 'x'.repeat(65))).rejects.toThrow();
  });

  it('does not list player ids in clear in the keychain', () => {
    expect(bindingAccount('player@example.com')).toMatch(/^binding:[0-9a-f]{32}$/);
  });

  it.each([
    ['locked', 'KEYCHAIN_LOCKED'],
    ['unavailable', 'KEYCHAIN_UNAVAILABLE'],
  ] as const)('a %s keychain is a clear %s error and nothing is written elsewhere', async (mode, code) => {
    const store = new MemorySecretStore();
    const settings = new MemorySettingsStore();
    store.mode = mode;
    const vault = new Vault(store);
    await expect(vault.deviceCredential()).rejects.toMatchObject({ code });
    await expect(vault.setDeviceCredential(cred)).rejects.toMatchObject({ code });
    await expect(vault.setBindingRef('p', 'bnd_abcdefgh')).rejects.toBeInstanceOf(DomainError);
    expect(await vault.health()).toBe(mode);
    expect([...store.entries.keys()].filter((k) => !k.endsWith('/probe'))).toEqual([]);
    expect(settings.writes).toBe(0);
  });

  it('classifies platform messages', () => {
    expect(keychainError(new Error('User interaction is not allowed.')).code).toBe('KEYCHAIN_LOCKED');
    expect(keychainError(new Error('The name org.freedesktop.secrets was not provided by any .service files')).code).toBe('KEYCHAIN_UNAVAILABLE');
  });

  it('treats a corrupt credential entry as not enrolled', async () => {
    const store = new MemorySecretStore();
    await store.set('scan-to-bind', 'relay-device', '{not json');
    expect(await new Vault(store).deviceCredential()).toBeNull();
  });

  it('proves itself usable with one read of the stored credential, and writes nothing for it', async () => {
    const memory = new MemorySecretStore();
    await new Vault(memory).setDeviceCredential(cred);
    const store = counting(memory);
    await new Vault(store).assertUsable();
    expect(store.calls).toEqual(['get scan-to-bind/relay-device']);
  });

  it('once the keychain has answered, proving it usable costs no keychain call; after a failure it is asked again', async () => {
    const memory = new MemorySecretStore();
    const store = counting(memory);
    const vault = new Vault(store);
    await vault.setDeviceCredential(cred);
    store.calls.length = 0;
    await vault.assertUsable();
    expect(store.calls).toEqual([]);
    memory.mode = 'locked';
    // A failure clears the proof: the next call asks the keychain.
    await expect(vault.setBindingRef('p', 'bnd_12345678')).rejects.toMatchObject({ code: 'KEYCHAIN_LOCKED' });
    store.calls.length = 0;
    await expect(vault.assertUsable()).rejects.toMatchObject({ code: 'KEYCHAIN_LOCKED' });
    expect(store.calls).toEqual(['get scan-to-bind/relay-device', 'set scan-to-bind/probe']);
    memory.mode = 'ok';
    await vault.assertUsable();
    store.calls.length = 0;
    await vault.assertUsable();
    expect(store.calls).toEqual([]);
  });

  it('with nothing to read back, a probe write decides whether it is usable', async () => {
    const memory = new MemorySecretStore();
    const store = counting(memory);
    await new Vault(store).assertUsable();
    expect(store.calls).toEqual(['get scan-to-bind/relay-device', 'set scan-to-bind/probe']);
    for (const [mode, code] of [
      ['locked', 'KEYCHAIN_LOCKED'],
      ['unavailable', 'KEYCHAIN_UNAVAILABLE'],
    ] as const) {
      const refusing = new MemorySecretStore();
      refusing.mode = mode;
      await expect(new Vault(refusing).assertUsable()).rejects.toMatchObject({ code });
    }
  });

  it('the relay client reads the credential from the keychain once, but asks again while there is none', async () => {
    const memory = new MemorySecretStore();
    const store = counting(memory);
    const vault = new Vault(store);
    const credential = rememberedCredential(vault);
    expect(await credential()).toBeNull();
    await vault.setDeviceCredential(cred);
    expect(await credential()).toEqual(cred);
    const reads = store.calls.filter((c) => c.startsWith('get')).length;
    expect(await credential()).toEqual(cred);
    expect(store.calls.filter((c) => c.startsWith('get')).length).toBe(reads);
    memory.mode = 'locked';
    expect(await credential()).toEqual(cred);
  });

  it('an unreadable credential is not remembered: the next call asks the keychain again', async () => {
    const memory = new MemorySecretStore();
    await new Vault(memory).setDeviceCredential(cred);
    memory.mode = 'unavailable';
    const credential = rememberedCredential(new Vault(memory));
    await expect(credential()).rejects.toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE' });
    memory.mode = 'ok';
    expect(await credential()).toEqual(cred);
  });
});
