import type { EventName, EventPayload, Handlers } from '@scan-to-bind/shared/ipc';
import { type EmbedEvents, bindingEvent, purchaseEvent } from '../embed/events.ts';
import { buildHandlers } from '../ipc/handlers.ts';
import { BindingService } from './binding-service.ts';
import type { BindingStatus } from './binding-status.ts';
import { ConnectivityMonitor } from './connectivity.ts';
import { createKioskReset, isCustomerActivity, KioskSession } from './kiosk-session.ts';
import { type KioskVisits, startKioskVisits } from './kiosk-visits.ts';
import { playerKeyFrom } from './player.ts';
import {
  type Clock,
  type KioskVisitStore,
  type Logger,
  type PendingIntentStore,
  type RelayHttp,
  type SecretStore,
  type SettingsStore,
  systemClock,
} from './ports.ts';
import { type PendingIntent, PurchaseService } from './purchase-service.ts';
import type { BackoffPolicy } from './relay/backoff.ts';
import { relayEventRouter } from './relay/event-router.ts';
import { type PlayerAssertionProvider, RelayApi } from './relay/relay-api.ts';
import { StatusStream } from './relay/status-stream.ts';
import { defaultSettings, SettingsService } from './settings-service.ts';
import { type DeviceCredential, rememberedCredential, Vault } from './vault.ts';

/** How the client is shown: a window, an overlay over a game, a kiosk, or inside a studio's launcher. */
export type ClientMode = 'window' | 'overlay' | 'kiosk' | 'embedded';

/**
 * What the client is built from. Every host passes its own: the Electron runtime (keytar,
 * electron-store, got, windows), the browser preview and the e2e host (the same adapters
 * behind a loopback bridge), and the integration stack (recording stores, counted requests).
 */
export interface ClientPorts {
  readonly secrets: SecretStore;
  readonly settingsStore: SettingsStore;
  readonly http: RelayHttp;
  readonly log: Logger;
  /** Unfinished purchases, kept across restarts. */
  readonly pending: PendingIntentStore<PendingIntent>;
  /** The kiosk's visit id and revoke outbox (read only in kiosk mode). */
  readonly visitStore: KioskVisitStore;
  /** The system locale: the default language of new settings. */
  readonly locale: string;
  /** Electron's `app.isPackaged`: a packaged client speaks https only to its relay. */
  readonly isPackaged: boolean;
  readonly version: string;
  /** The mode to run in; without it the operator settings decide. */
  readonly mode?: ClientMode;
  /** The relay URL to use (stored in the operator settings); without it the stored one. */
  readonly relayUrl?: string;
  /** The studio's player assertions (launchers). */
  readonly playerAssertion: PlayerAssertionProvider;
  /** Time and timers of the services (default: the system clock). */
  readonly clock?: Clock;
  /** Timers of the kiosk idle session (default: `clock`). */
  readonly kioskClock?: Clock;
  /** Mints purchase intent ids and visit ids (crypto.randomUUID). */
  readonly newId: () => string;
  /** Pushes an event of the IPC contract to the windows. */
  readonly push?: <K extends EventName>(name: K, payload: EventPayload<K>) => void;
  /** Kiosk reset: clears the renderer's storage and reloads its windows. */
  readonly wipeStorage?: () => Promise<void>;
  readonly reloadWindows?: () => void;
  /** Runs after each kiosk reset (the packaged kiosk installs a downloaded update). */
  readonly onKioskReset?: () => void;
  readonly writeClipboard?: (text: string) => void;
  /** Keeps the display awake (kiosk) while `on`: the power-save blocker. */
  readonly keepAwake?: (on: boolean) => void;
  /** Timings for tests and the preview: the relay timeout and the retry, stream and follow-up pace. */
  readonly tuning?: { readonly relayTimeoutMs?: number; readonly backoff?: BackoffPolicy; readonly followUp?: BackoffPolicy };
}

/** A built client: its services, the IPC handler table, and the rules between them. */
export interface Client {
  readonly mode: ClientMode;
  readonly relay: RelayApi;
  readonly vault: Vault;
  readonly settings: SettingsService;
  readonly binding: BindingService;
  readonly purchases: PurchaseService;
  readonly kiosk: KioskSession | null;
  readonly visits: KioskVisits | null;
  readonly connectivity: ConnectivityMonitor;
  /** One implementation per invoke of the IPC contract; hosts register them behind their sender check. */
  readonly handlers: Handlers;
  /** Tells the kiosk session about an invoke that passed the sender check (customer activity). */
  activity(invoke: string): void;
  /** Enrols this device with a one-time code and keeps the credential in the keychain. */
  enrol(code: string, label: string): Promise<DeviceCredential>;
  /** True while a customer sees a flow: a QR, an unfinished purchase, a kiosk visit. */
  flowVisible(): boolean;
  /** Subscribes to the embedding API's events. */
  on<K extends keyof EmbedEvents>(event: K, listener: (payload: EmbedEvents[K]) => void): () => void;
  /** Restores the binding, resumes unfinished purchases and opens the relay's status stream. */
  start(): Promise<void>;
  /** Stops timers and the stream; nothing is cleared (a restart finds everything). */
  dispose(): void;
}

/**
 * Kiosk rule: the display stays awake while a customer has something to finish — a QR waiting
 * to be scanned or a purchase whose result is not final. Evaluated on binding and purchase
 * changes alike, so a pending purchase keeps it awake after the QR is gone.
 */
export function displayMustStayAwake(binding: Pick<BindingStatus, 'state'>, pendingPurchases: number): boolean {
  return binding.state === 'QR_SHOWN' || pendingPurchases > 0;
}

/**
 * The one composition of the client (plain TypeScript, no Electron): vault, settings, relay
 * client, binding and purchase services, the kiosk visit and session, the status stream, the
 * handler table, and the rules that join them (pushes, embedding events, the power guard,
 * reconnect on connectivity). Opens the kiosk visit before anything reads a binding; call
 * `start()` once the host can show what follows.
 */
export async function createClient(p: ClientPorts): Promise<Client> {
  const clock = p.clock ?? systemClock;
  const log = p.log;
  const backoff = p.tuning?.backoff;
  const vault = new Vault(p.secrets);
  const settings = new SettingsService(p.settingsStore, defaultSettings(p.locale));
  const mode = p.mode ?? settings.get().mode;
  settings.setOperator({ mode, ...(p.relayUrl ? { relayUrl: p.relayUrl } : {}) });

  const connectivity = new ConnectivityMonitor();
  const credential = rememberedCredential(vault);
  const relay = new RelayApi({
    http: p.http,
    isPackaged: p.isPackaged,
    clock,
    log,
    credential,
    playerAssertion: p.playerAssertion,
    onReachability: (reachable, offline) => connectivity.report(reachable, offline),
    ...(p.tuning?.relayTimeoutMs ? { timeoutMs: p.tuning.relayTimeoutMs } : {}),
    ...(backoff ? { backoff } : {}),
  });
  const playerKey = async () => {
    const cred = await credential().catch(() => null);
    const kind = cred?.kind ?? 'launcher';
    // The assertion names the player; without a device id there is none to ask for.
    return playerKeyFrom(kind, kind === 'launcher' && cred ? await p.playerAssertion({ deviceId: cred.deviceId, refresh: false }) : null);
  };

  // Kiosks: the visit id and its durable outbox, opened before any binding is restored.
  let visits: KioskVisits | null = null;
  const visit = () => visits?.current() ?? null;
  const binding = new BindingService({ relay, vault, clock, log, playerKey, visit, rememberWallet: (w) => settings.setPlayer({ lastWallet: w }) });
  const purchases = new PurchaseService({
    relay,
    binding,
    pending: p.pending,
    clock,
    log,
    newIntentId: p.newId,
    visit,
    ...(p.tuning?.followUp ? { followUp: p.tuning.followUp } : {}),
  });
  if (mode === 'kiosk') {
    visits = await startKioskVisits({ store: p.visitStore, relay, clock, log, newVisitId: p.newId, ...(backoff ? { backoff } : {}) }, binding);
  }

  let kiosk: KioskSession | null = null;
  if (visits) {
    const resetVisit = createKioskReset({
      visits,
      binding,
      purchases,
      wipeStorage: p.wipeStorage ?? (async () => {}),
      reloadWindows: p.reloadWindows ?? (() => {}),
      log,
    });
    kiosk = new KioskSession({
      clock: p.kioskClock ?? clock,
      log,
      timings: () => settings.get().kiosk,
      reset: async () => {
        await resetVisit();
        p.onKioskReset?.();
      },
    });
  }

  const listeners: { [K in keyof EmbedEvents]: Set<(payload: EmbedEvents[K]) => void> } = {
    bound: new Set(),
    unbound: new Set(),
    'purchase-result': new Set(),
  };
  const emit = <K extends keyof EmbedEvents>(event: K, payload: EmbedEvents[K]) => {
    for (const l of listeners[event]) l(payload);
  };
  const push = p.push ?? (() => {});
  const guardDisplay = () => {
    if (mode === 'kiosk') p.keepAwake?.(displayMustStayAwake(binding.status(), purchases.pending().length));
  };
  binding.onChange((s, prev) => {
    push('bindingChanged', s);
    const ev = bindingEvent(s, prev);
    if (ev?.[0] === 'bound') emit('bound', ev[1]);
    else if (ev?.[0] === 'unbound') emit('unbound', ev[1]);
    guardDisplay();
  });
  purchases.onChange((s) => {
    push('purchaseChanged', s);
    const ev = purchaseEvent(s);
    if (ev) emit('purchase-result', ev);
    guardDisplay();
  });
  settings.onChange((s) => push('settingsChanged', s));
  kiosk?.onChange((k) => push('kioskChanged', k));

  const stream = new StatusStream((signal, last) => relay.openEvents(signal, last), relayEventRouter(binding, purchases, log), clock, log, backoff);
  connectivity.onChange((c) => {
    log.info('connectivity', { state: c });
    if (c === 'online') stream.reconnectNow();
  });

  const handlers = buildHandlers({ version: p.version, binding, purchases, settings, relay, kiosk, writeClipboard: p.writeClipboard ?? (() => {}) });
  return {
    mode,
    relay,
    vault,
    settings,
    binding,
    purchases,
    kiosk,
    visits,
    connectivity,
    handlers,
    activity: (invoke) => {
      if (isCustomerActivity(invoke)) kiosk?.activity();
    },
    enrol: async (code, label) => {
      const cred = await relay.enroll(settings.get().relayUrl, code, label);
      await vault.setDeviceCredential(cred);
      return cred;
    },
    flowVisible: () => {
      const state = binding.status().state;
      return state === 'QR_SHOWN' || state === 'AUTHORIZED' || purchases.pending().length > 0 || (kiosk !== null && kiosk.status().phase !== 'attract');
    },
    on: (event, listener) => {
      listeners[event].add(listener);
      return () => listeners[event].delete(listener);
    },
    start: async () => {
      await binding.restore();
      void purchases.resume();
      stream.start();
    },
    dispose: () => {
      stream.stop();
      binding.dispose();
      purchases.dispose();
      kiosk?.dispose();
      visits?.dispose();
    },
  };
}
