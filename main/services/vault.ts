import { createHash } from 'node:crypto';
import { DomainError } from '@scan-to-bind/shared/domain';
import { z } from 'zod';
import type { SecretStore } from './ports.ts';

/** The keychain service name every entry of this product lives under. */
export const VAULT_SERVICE = 'scan-to-bind';
const DEVICE_ACCOUNT = 'relay-device';
const PROBE_ACCOUNT = 'probe';

/** The relay device credential (from enrolment); it never leaves main. */
export const DeviceCredentialSchema = z.strictObject({
  relayUrl: z.url({ protocol: /^https?$/ }),
  deviceId: z.string().min(1).max(128),
  deviceSecret: z.string().min(16).max(512),
  kind: z.enum(['launcher', 'kiosk']),
});
/** The relay device credential. */
export type DeviceCredential = z.infer<typeof DeviceCredentialSchema>;

/** The keychain as the UI sees it. */
export type VaultHealth = 'ok' | 'locked' | 'unavailable';

const LOCKED = [
  /locked collection/i,
  /collection is locked/i,
  /is locked/i,
  /user interaction is not allowed/i, // macOS errSecInteractionNotAllowed (-25308)
  /-25308/,
  /cancelled|canceled|dismissed/i, // the unlock prompt was dismissed
  /no unlock/i,
];

/**
 * Classifies a keychain failure: locked (the user can fix it by unlocking) or unavailable (no
 * Secret Service, no D-Bus, no keychain at all). Both are DomainErrors with a shared code, so
 * the UI and the embedding API get a clear state. There is no plaintext fallback anywhere.
 */
export function keychainError(error: unknown): DomainError {
  if (error instanceof DomainError) return error;
  const text = error instanceof Error ? error.message : String(error);
  const locked = LOCKED.some((re) => re.test(text));
  return new DomainError(locked ? 'KEYCHAIN_LOCKED' : 'KEYCHAIN_UNAVAILABLE', text.slice(0, 200));
}

/**
 * The device credential for the relay client: read from the keychain on first use, then kept
 * in memory (main signs every request with it). Not kept while absent (not enrolled yet) or
 * unreadable, so those are asked again next time.
 */
export function rememberedCredential(vault: Pick<Vault, 'deviceCredential'>): () => Promise<DeviceCredential | null> {
  let credential: DeviceCredential | null = null;
  return async () => (credential ??= await vault.deviceCredential());
}

/** The keychain account of a player's binding reference: a hash, so player ids are not listed in clear. */
export function bindingAccount(playerKey: string): string {
  return `binding:${createHash('sha256').update(playerKey).digest('hex').slice(0, 32)}`;
}

const BindingRefSchema = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/);

/**
 * Secrets in the OS keychain: the relay device credential and, per player, the opaque binding
 * reference the relay minted (never an Antom token — the PC never sees one).
 */
export class Vault {
  readonly #store: SecretStore;
  /**
   * The keychain's last answer proved it usable (a write it took, or a read that found an
   * entry) and nothing has failed since. Cleared by any failure, so the next `assertUsable()`
   * asks the keychain again.
   */
  #proven = false;

  constructor(store: SecretStore) {
    this.#store = store;
  }

  /** `proves`: a success of `op` shows the keychain usable (not so an empty read: see #get). */
  async #do<T>(op: () => Promise<T>, proves = true): Promise<T> {
    try {
      const value = await op();
      if (proves) this.#proven = true;
      return value;
    } catch (error) {
      this.#proven = false;
      throw keychainError(error);
    }
  }

  /**
   * A read that tells "absent" from "locked". libsecret answers a read of a locked collection
   * with nothing at all (once its unlock prompt fails or is dismissed), exactly like a missing
   * entry; so an empty answer is confirmed with a probe write, which a locked collection
   * refuses ("Cannot create an item in a locked collection").
   */
  async #get(account: string): Promise<string | null> {
    const value = await this.#do(() => this.#store.get(VAULT_SERVICE, account), false);
    if (value === null) await this.#do(() => this.#store.set(VAULT_SERVICE, PROBE_ACCOUNT, 'ok'));
    else this.#proven = true;
    return value;
  }

  /**
   * Proves the keychain usable before something is created that it must then remember (a QR):
   * throws KEYCHAIN_LOCKED / KEYCHAIN_UNAVAILABLE when it is not. A keychain that has answered
   * since its last failure (at the latest restore()'s read of the binding reference) is taken
   * as proven, with no keychain call: the QR's first paint waits on no keychain (issue 17, #5).
   * A keychain locked since then is caught by the reference write that follows the QR, which
   * withdraws it (BindingService.start) and clears the proof. Otherwise the device credential
   * read back is the proof (a locked collection hides every entry), so an enrolled device pays
   * one read; only when there is nothing to read back does the probe write decide.
   */
  async assertUsable(): Promise<void> {
    if (this.#proven) return;
    await this.#get(DEVICE_ACCOUNT);
  }

  /** Probes the keychain; never throws. */
  async health(): Promise<VaultHealth> {
    try {
      await this.#do(() => this.#store.set(VAULT_SERVICE, PROBE_ACCOUNT, 'ok'));
      return 'ok';
    } catch (error) {
      return error instanceof DomainError && error.code === 'KEYCHAIN_LOCKED' ? 'locked' : 'unavailable';
    }
  }

  /** The device credential, or null when the device is not enrolled. A corrupt entry counts as absent. */
  async deviceCredential(): Promise<DeviceCredential | null> {
    const raw = await this.#get(DEVICE_ACCOUNT);
    if (raw === null) return null;
    try {
      const parsed = DeviceCredentialSchema.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  /** Stores the device credential (after enrolment or handover). */
  async setDeviceCredential(credential: DeviceCredential): Promise<void> {
    const valid = DeviceCredentialSchema.parse(credential);
    await this.#do(() => this.#store.set(VAULT_SERVICE, DEVICE_ACCOUNT, JSON.stringify(valid)));
  }

  /** Forgets the device credential. */
  async clearDeviceCredential(): Promise<void> {
    await this.#do(() => this.#store.delete(VAULT_SERVICE, DEVICE_ACCOUNT));
  }

  /** The player's binding reference, or null. */
  async bindingRef(playerKey: string): Promise<string | null> {
    const raw = await this.#get(bindingAccount(playerKey));
    return raw !== null && BindingRefSchema.safeParse(raw).success ? raw : null;
  }

  /** Stores the player's binding reference (an opaque relay id, validated as such). */
  async setBindingRef(playerKey: string, bindingId: string): Promise<void> {
    const id = BindingRefSchema.parse(bindingId);
    await this.#do(() => this.#store.set(VAULT_SERVICE, bindingAccount(playerKey), id));
  }

  /** Forgets the player's binding reference. */
  async clearBindingRef(playerKey: string): Promise<void> {
    await this.#do(() => this.#store.delete(VAULT_SERVICE, bindingAccount(playerKey)));
  }
}
