import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locale } from '@scan-to-bind/shared/domain';
import type { IpcMainInvokeEvent } from 'electron';
import { createFileKioskVisitStore } from '../../../main/adapters/kiosk-visit-store.file.ts';
import { createFilePendingStore } from '../../../main/adapters/pending-store.file.ts';
import { createGotRelayHttp } from '../../../main/adapters/relay-client.got.ts';
import { createKeytarSecretStore } from '../../../main/adapters/secret-store.keytar.ts';
import { createHandle, registerHandlers } from '../../../main/ipc/handle.ts';
import { buildHandlers } from '../../../main/ipc/handlers.ts';
import { createPush, type Push, type PushTarget } from '../../../main/ipc/push.ts';
import { BindingService } from '../../../main/services/binding-service.ts';
import { createKioskReset, isCustomerActivity, KioskSession } from '../../../main/services/kiosk-session.ts';
import { type KioskVisits, startKioskVisits } from '../../../main/services/kiosk-visits.ts';
import { playerKeyFrom } from '../../../main/services/player.ts';
import { type Clock, type SecretStore, systemClock } from '../../../main/services/ports.ts';
import { isPendingIntent, PurchaseService } from '../../../main/services/purchase-service.ts';
import { RelayApi } from '../../../main/services/relay/relay-api.ts';
import { StatusStream } from '../../../main/services/relay/status-stream.ts';
import { relayEventRouter } from '../../../main/services/relay/event-router.ts';
import { defaultSettings, SettingsService } from '../../../main/services/settings-service.ts';
import { rememberedCredential, Vault } from '../../../main/services/vault.ts';
import { MemoryLogger, MemorySecretStore, MemorySettingsStore } from '../../fakes/memory-stores.ts';

/*
 * Main without Electron: the same services, adapters and handler table that
 * main/platform/app-runtime.ts wires, minus windows and the app:// protocol. The IPC wrapper
 * is main/ipc/handle.ts itself, registered on a tiny ipcMain stand-in; the bridge host
 * (bridge-host.ts) calls the registered listeners for `POST /__bridge/invoke/<channel>`.
 */

/** Which keychain the vault uses: keytar on a D-Bus session (CI always), else memory. */
export function vaultKind(): 'keytar' | 'memory' {
  return process.env.DBUS_SESSION_BUS_ADDRESS ? 'keytar' : 'memory';
}

let notedMemoryVault = false;

/** keytar under a service name of this run only, so the developer's own entries are never touched. */
class ScopedSecretStore implements SecretStore {
  readonly #inner: SecretStore;
  readonly #suffix: string;
  readonly #used = new Set<string>();
  constructor(inner: SecretStore, suffix: string) {
    this.#inner = inner;
    this.#suffix = suffix;
  }
  get(service: string, account: string) {
    return this.#inner.get(`${service}${this.#suffix}`, account);
  }
  set(service: string, account: string, secret: string) {
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

/** The PC's own relay request timeout in these tests (main's default is 10 s). */
export const CLIENT_REQUEST_TIMEOUT_MS = 3_000;

/** What the main process of one app instance needs from the test. */
export interface ClientMainOptions {
  readonly relayUrl: string;
  readonly device: { deviceId: string; deviceSecret: string; kind: 'launcher' | 'kiosk' };
  /** The studio's player assertion (launchers). */
  readonly playerAssertion: (() => string) | null;
  readonly locale: Locale;
  /** Timers of the kiosk session (a fake clock the test advances). */
  readonly kioskClock: Clock;
  /** The PC's wall clock, kept in sync with the relay's (NTP); timers run in real time. */
  readonly now: () => number;
}

/** A running "main process". */
export interface ClientMain {
  readonly binding: BindingService;
  readonly purchases: PurchaseService;
  readonly settings: SettingsService;
  readonly kiosk: KioskSession | null;
  readonly vault: Vault;
  readonly playerKey: string;
  readonly log: MemoryLogger;
  /** Calls the registered IPC listener of `channel` as a trusted main frame would. */
  invoke(channel: string, args: unknown[]): Promise<unknown>;
  /** Adds a push target (an SSE client); returns its removal. */
  addTarget(target: PushTarget): () => void;
  /** Windows reloading (kiosk reset): the host tells every page. */
  onReload(listener: () => void): () => void;
  close(): Promise<void>;
}

/** Builds and starts the services the way app-runtime.ts does. */
export async function startClientMain(o: ClientMainOptions): Promise<ClientMain> {
  const dir = mkdtempSync(join(tmpdir(), 'stb-e2e-main-'));
  const log = new MemoryLogger();
  const kind = vaultKind();
  if (kind === 'memory' && !notedMemoryVault) {
    notedMemoryVault = true;
    console.log('[e2e] no D-Bus session: the vault uses the in-memory SecretStore of test/fakes (CI uses keytar)');
  }
  const secrets = new ScopedSecretStore(
    kind === 'keytar' ? createKeytarSecretStore() : new MemorySecretStore(),
    `-e2e-${process.pid}-${randomUUID().slice(0, 8)}`,
  );
  const vault = new Vault(secrets);
  await vault.setDeviceCredential({ relayUrl: o.relayUrl, ...o.device });
  const mode = o.device.kind === 'kiosk' ? 'kiosk' : 'window';
  const settings = new SettingsService(new MemorySettingsStore(), { ...defaultSettings(o.locale), mode, relayUrl: o.relayUrl });

  const clock: Clock = { now: o.now, setTimeout: systemClock.setTimeout, clearTimeout: systemClock.clearTimeout };
  const relay = new RelayApi({
    http: createGotRelayHttp(),
    // A development client (unpackaged, as the e2e relay is plain http on loopback).
    isPackaged: false,
    clock,
    log,
    // As app-runtime.ts: read from the keychain once, then kept in memory.
    credential: rememberedCredential(vault),
    playerAssertion: async () => o.playerAssertion?.() ?? null,
    timeoutMs: CLIENT_REQUEST_TIMEOUT_MS,
    backoff: { baseMs: 50, maxMs: 400 },
  });
  const playerKey = playerKeyFrom(o.device.kind, o.playerAssertion?.() ?? null);
  // As app-runtime.ts: a kiosk's visit and its outbox, opened before the restore.
  let visits: KioskVisits | null = null;
  const visit = () => visits?.current() ?? null;
  const binding = new BindingService({
    relay,
    vault,
    clock,
    log,
    playerKey: async () => playerKey,
    visit,
    rememberWallet: (w) => settings.setPlayer({ lastWallet: w }),
  });
  const purchases = new PurchaseService({
    relay,
    binding,
    pending: createFilePendingStore(join(dir, 'pending-purchases.json'), isPendingIntent),
    clock,
    log,
    newIntentId: randomUUID,
    followUp: { baseMs: 150, maxMs: 600 },
    visit,
  });
  if (mode === 'kiosk') {
    const store = createFileKioskVisitStore(join(dir, 'kiosk-visit.json'));
    visits = await startKioskVisits({ store, relay, clock, log, newVisitId: randomUUID, backoff: { baseMs: 50, maxMs: 400 } }, binding);
  }

  const reloadListeners = new Set<() => void>();
  let kiosk: KioskSession | null = null;
  if (visits) {
    kiosk = new KioskSession({
      clock: o.kioskClock,
      log,
      timings: () => settings.get().kiosk,
      reset: createKioskReset({
        visits,
        binding,
        purchases,
        wipeStorage: async () => {},
        reloadWindows: () => {
          for (const l of reloadListeners) l();
        },
        log,
      }),
    });
  }

  const listeners = new Map<string, (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<unknown>>();
  const handle = createHandle({
    ipcMain: { handle: (channel, listener) => listeners.set(channel, listener), removeHandler: (c) => listeners.delete(c) },
    // The bridge host admits only requests carrying the run's secret (its stand-in for the sender check).
    isTrustedSender: () => true,
    log: (m, f) => log.warn(m, f),
    onActivity: (name) => {
      if (isCustomerActivity(name)) kiosk?.activity();
    },
  });
  registerHandlers(
    handle,
    buildHandlers({ version: '0.1.0-e2e', binding, purchases, settings, relay, kiosk, writeClipboard: () => {} }),
  );

  const targets = new Set<PushTarget>();
  const push: Push = createPush(
    () => [...targets],
    () => true,
    (m, f) => log.warn(m, f),
  );
  binding.onChange((s) => push('bindingChanged', s));
  purchases.onChange((p) => push('purchaseChanged', p));
  settings.onChange((s) => push('settingsChanged', s));
  kiosk?.onChange((k) => push('kioskChanged', k));

  const stream = new StatusStream(
    (signal, last) => relay.openEvents(signal, last),
    relayEventRouter(binding, purchases, log),
    clock,
    log,
    { baseMs: 50, maxMs: 400 },
  );
  await binding.restore();
  void purchases.resume();
  stream.start();

  return {
    binding,
    purchases,
    settings,
    kiosk,
    vault,
    playerKey,
    log,
    async invoke(channel, args) {
      const listener = listeners.get(channel);
      if (!listener) return undefined;
      return listener({} as IpcMainInvokeEvent, ...args);
    },
    addTarget(target) {
      targets.add(target);
      return () => targets.delete(target);
    },
    onReload(listener) {
      reloadListeners.add(listener);
      return () => reloadListeners.delete(listener);
    },
    async close() {
      stream.stop();
      binding.dispose();
      purchases.dispose();
      kiosk?.dispose();
      visits?.dispose();
      await secrets.wipe();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
