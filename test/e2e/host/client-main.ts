import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locale } from '@scan-to-bind/shared/domain';
import { clientFileStores } from '../../../main/adapters/client-files.ts';
import { createGotRelayHttp } from '../../../main/adapters/relay-client.got.ts';
import { startBrowserMain } from '../../../main/dev/browser-main.ts';
import type { PushTarget } from '../../../main/ipc/push.ts';
import type { BindingService } from '../../../main/services/binding-service.ts';
import type { KioskSession } from '../../../main/services/kiosk-session.ts';
import { playerKeyFrom } from '../../../main/services/player.ts';
import { type Clock, systemClock } from '../../../main/services/ports.ts';
import type { PurchaseService } from '../../../main/services/purchase-service.ts';
import { defaultSettings, type SettingsService } from '../../../main/services/settings-service.ts';
import { Vault } from '../../../main/services/vault.ts';
import { MemoryLogger, MemorySettingsStore } from '../../fakes/memory-stores.ts';
import { RunSecretStore, secretStoreKind } from '../../support/run-secret-store.ts';

/*
 * Main without Electron for the e2e suite: main/dev/browser-main.ts (the app's one client
 * composition behind the IPC wrapper) on keytar under a run-scoped service name, settings in
 * memory, and the test's clocks.
 */

let notedMemoryVault = false;

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

/** Builds and starts main's one client composition behind the in-process IPC stand-in (main/dev/browser-main.ts). */
export async function startClientMain(o: ClientMainOptions): Promise<ClientMain> {
  const dir = mkdtempSync(join(tmpdir(), 'stb-e2e-main-'));
  const log = new MemoryLogger();
  if (secretStoreKind() === 'memory' && !notedMemoryVault) {
    notedMemoryVault = true;
    console.log('[e2e] no D-Bus session: the vault uses the in-memory SecretStore of test/fakes (CI uses keytar)');
  }
  const secrets = new RunSecretStore('e2e');
  await new Vault(secrets).setDeviceCredential({ relayUrl: o.relayUrl, ...o.device });
  const mode = o.device.kind === 'kiosk' ? 'kiosk' : 'window';
  const playerAssertion = o.playerAssertion;
  const main = await startBrowserMain({
    secrets,
    settingsStore: new MemorySettingsStore({ ...defaultSettings(o.locale), mode, relayUrl: o.relayUrl }),
    http: createGotRelayHttp(),
    log,
    ...clientFileStores(dir, log),
    locale: o.locale,
    // A development client (unpackaged, as the e2e relay is plain http on loopback).
    isPackaged: false,
    version: '0.1.0-e2e',
    mode,
    relayUrl: o.relayUrl,
    playerAssertion: async () => playerAssertion?.() ?? null,
    clock: { now: o.now, setTimeout: systemClock.setTimeout, clearTimeout: systemClock.clearTimeout },
    kioskClock: o.kioskClock,
    newId: randomUUID,
    tuning: { relayTimeoutMs: CLIENT_REQUEST_TIMEOUT_MS, backoff: { baseMs: 50, maxMs: 400 }, followUp: { baseMs: 150, maxMs: 600 } },
  });
  const { client } = main;
  return {
    binding: client.binding,
    purchases: client.purchases,
    settings: client.settings,
    kiosk: client.kiosk,
    vault: client.vault,
    playerKey: playerKeyFrom(o.device.kind, playerAssertion?.() ?? null),
    log,
    invoke: (channel, args) => main.invoke(channel, args),
    addTarget: (target) => main.addTarget(target),
    onReload: (listener) => main.onReload(listener),
    async close() {
      await main.close();
      await secrets.wipe();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
