import type { SecretStore } from '../services/ports.ts';

type Keytar = typeof import('keytar');

/**
 * SecretStore on keytar (Keychain on macOS, Credential Vault on Windows, Secret Service on
 * Linux). keytar is loaded lazily: a missing or unloadable native module becomes an error of
 * the call (the vault maps it to KEYCHAIN_UNAVAILABLE) instead of a crash at start. No rules
 * and no fallback live here.
 */
export function createKeytarSecretStore(load: () => Promise<Keytar> = loadKeytar): SecretStore {
  let keytar: Promise<Keytar> | null = null;
  const get = () => {
    keytar ??= load().catch((error: unknown) => {
      keytar = null;
      throw error;
    });
    return keytar;
  };
  return {
    get: async (service, account) => (await get()).getPassword(service, account),
    set: async (service, account, secret) => (await get()).setPassword(service, account, secret),
    delete: async (service, account) => (await get()).deletePassword(service, account),
  };
}

async function loadKeytar(): Promise<Keytar> {
  const mod = (await import('keytar')) as Keytar & { default?: Keytar };
  return mod.default ?? mod;
}
