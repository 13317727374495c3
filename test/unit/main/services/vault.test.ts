import { DomainError } from '@scan-to-bind/shared/domain';
import { describe, expect, it } from 'vitest';
import { bindingAccount, keychainError, Vault } from '../../../../main/services/vault.ts';
import { MemorySecretStore, MemorySettingsStore } from '../../../fakes/memory-stores.ts';

const cred = { relayUrl: 'http://127.0.0.1:8787', deviceId: 'dev_1', deviceSecret: 's'.repeat(43), kind: 'launcher' as const };

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
    expect(keychainError(new Error('The name org.freedesktop.secrets was not provided by any .service files')).code).toBe(
      'KEYCHAIN_UNAVAILABLE',
    );
  });

  it('treats a corrupt credential entry as not enrolled', async () => {
    const store = new MemorySecretStore();
    await store.set('scan-to-bind', 'relay-device', '{not json');
    expect(await new Vault(store).deviceCredential()).toBeNull();
  });
});
