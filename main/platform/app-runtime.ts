import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as electron from 'electron';
import type { BrowserWindow } from 'electron';
import { createKeytarSecretStore } from '../adapters/secret-store.keytar.ts';
import { createElectronSettingsStore } from '../adapters/settings-store.electron-store.ts';
import { createGotRelayHttp } from '../adapters/relay-client.got.ts';
import { createFileKioskVisitStore } from '../adapters/kiosk-visit-store.file.ts';
import { createFilePendingStore } from '../adapters/pending-store.file.ts';
import { createRedactingLogger, fileSink, stderrSink } from '../adapters/logger.plain.ts';
import { type EmbedEvents, bindingEvent, purchaseEvent } from '../embed/events.ts';
import { buildHandlers } from '../ipc/handlers.ts';
import { createHandle, registerHandlers } from '../ipc/handle.ts';
import { createPush } from '../ipc/push.ts';
import { appUrlFor } from '../security/app-origin.ts';
import { registerAppProtocol } from '../security/app-protocol.ts';
import { buildCsp } from '../security/csp.ts';
import { createOpenExternal } from '../security/navigation-guard.ts';
import { installPermissionGuards } from '../security/permissions.ts';
import { isTrustedSender } from '../security/sender-check.ts';
import { TrustedWindows } from '../security/trusted-windows.ts';
import { BindingService } from '../services/binding-service.ts';
import { ConnectivityMonitor } from '../services/connectivity.ts';
import { parseHandover } from '../services/handover.ts';
import { launchEnvironment } from '../services/launch-environment.ts';
import { createKioskReset, isCustomerActivity, KioskSession } from '../services/kiosk-session.ts';
import { type KioskVisits, startKioskVisits } from '../services/kiosk-visits.ts';
import { playerKeyFrom } from '../services/player.ts';
import { type Logger, systemClock } from '../services/ports.ts';
import { isPendingIntent, PurchaseService } from '../services/purchase-service.ts';
import { type PlayerAssertionProvider, RelayApi } from '../services/relay/relay-api.ts';
import { devStudioAssertions } from '../services/dev-studio.ts';
import { StatusStream } from '../services/relay/status-stream.ts';
import { relayEventRouter } from '../services/relay/event-router.ts';
import { defaultSettings, SettingsService } from '../services/settings-service.ts';
import { rememberedCredential, Vault } from '../services/vault.ts';
import { createSecureWindow } from '../windows/create-secure-window.ts';
import { kioskWindowShape, mainWindowShape, overlayWindowShape, ROUTES } from '../windows/window-options.ts';
import { createOverlayController, registerOverlayHotkey } from './overlay.ts';
import { createFlowPowerGuard } from './power-save.ts';
import { installRendererWatchdog } from './watchdog.ts';

/** How the runtime is started (standalone main/index.ts or a studio's launcher via main/embed). */
export interface RuntimeOptions {
  readonly mode?: 'window' | 'overlay' | 'kiosk' | 'embedded';
  readonly isDev: boolean;
  readonly devServerUrl?: string | null;
  readonly rendererDir: string;
  readonly preloadPath: string;
  readonly version: string;
  /** The studio's player assertions (launchers); overrides the handover's development ones. */
  readonly playerAssertion?: PlayerAssertionProvider;
  /** Overrides the relay URL / enrolment of the handover (embedding API). */
  readonly relayUrl?: string;
  readonly enrollCode?: string;
  /** https hosts links may open in the system browser. */
  readonly externalHosts?: readonly string[];
  readonly overlayHotkey?: string;
  /** The redacting logger (bootstrap: on electron-log); default: JSON lines to stderr and userData/logs. */
  readonly log?: Logger;
  /** Runs after each kiosk idle reset (bootstrap: installs a downloaded update). */
  readonly onKioskReset?: () => void;
}

/** A running client. */
export interface Runtime {
  /** The mode in effect (options, handover or the operator settings). */
  readonly mode: 'window' | 'overlay' | 'kiosk' | 'embedded';
  readonly binding: BindingService;
  readonly purchases: PurchaseService;
  readonly settings: SettingsService;
  /** True while a customer sees a flow: a QR, an unfinished purchase, a kiosk visit. */
  flowVisible(): boolean;
  openBinding(): Promise<void>;
  openPurchase(sku: string, quantity: number): Promise<void>;
  on<K extends keyof EmbedEvents>(event: K, listener: (payload: EmbedEvents[K]) => void): () => void;
  dispose(): void;
}

/**
 * Composition of the client inside Electron: adapters, services, security, IPC, windows and
 * the mode's platform glue. Called after `app.whenReady()` (and after the app:// scheme was
 * registered as privileged before ready).
 */
export async function startRuntime(o: RuntimeOptions): Promise<Runtime> {
  const { app, BrowserWindow: BW, ipcMain, protocol, session, shell, clipboard, globalShortcut, powerSaveBlocker, Menu, screen, net } = electron;
  const userData = app.getPath('userData');
  const log = o.log ?? createRedactingLogger([stderrSink, fileSink(join(userData, 'logs', 'main.log'))], o.isDev ? 'debug' : 'info');
  const lg = (m: string, f: Record<string, unknown>) => log.warn(m, f);

  // Handover from `npm start`: read once, then delete. Never in a packaged build (a studio's
  // launcher embeds this runtime too), where any parent process could set the variable.
  const { handoverPath } = launchEnvironment(app.isPackaged, process.env);
  let handoverText: string | null = null;
  if (handoverPath) {
    try {
      handoverText = readFileSync(handoverPath, 'utf8');
      rmSync(handoverPath, { force: true });
    } catch {
      log.warn('handover file unreadable', {});
    }
  }
  const handover = parseHandover(handoverText);

  const vault = new Vault(createKeytarSecretStore());
  const settings = new SettingsService(createElectronSettingsStore({ cwd: userData }), defaultSettings(app.getLocale()));
  const mode = o.mode ?? handover?.mode ?? settings.get().mode;
  const relayUrl = o.relayUrl ?? handover?.relayUrl;
  settings.setOperator({ mode, ...(relayUrl ? { relayUrl } : {}) });

  const connectivity = new ConnectivityMonitor();
  const credential = rememberedCredential(vault);
  const http = createGotRelayHttp();
  // The studio's provider, else `npm start`'s demo studio, else a fixed development token.
  const assertions: PlayerAssertionProvider =
    o.playerAssertion ?? (handover?.devStudio ? devStudioAssertions(handover.devStudio, http) : async () => handover?.playerAssertion ?? null);
  const relay = new RelayApi({
    http,
    // https only in a packaged build (services/relay-url-policy.ts): no request goes elsewhere.
    isPackaged: app.isPackaged,
    clock: systemClock,
    log,
    credential,
    playerAssertion: assertions,
    onReachability: (r, off) => connectivity.report(r, off),
  });
  try {
    const url = settings.get().relayUrl;
    if (handover?.device) await vault.setDeviceCredential({ relayUrl: url, ...handover.device });
    const code = o.enrollCode ?? handover?.enrollCode;
    if (code) await vault.setDeviceCredential(await relay.enroll(url, code, `${app.getName()} ${mode}`));
  } catch (error) {
    log.error('device enrolment failed', { error: String(error) });
  }
  const playerKey = async () => {
    const cred = await credential().catch(() => null);
    const kind = cred?.kind ?? 'launcher';
    // The assertion names the player; without a device id there is none to ask for.
    return playerKeyFrom(kind, kind === 'launcher' && cred ? await assertions({ deviceId: cred.deviceId, refresh: false }) : null);
  };

  // Kiosks: the visit id and its durable outbox (kiosk-visits.ts), opened before any restore.
  let visits: KioskVisits | null = null;
  const visit = () => visits?.current() ?? null;
  const binding = new BindingService({ relay, vault, clock: systemClock, log, playerKey, visit, rememberWallet: (w) => settings.setPlayer({ lastWallet: w }) });
  const purchases = new PurchaseService({
    relay,
    binding,
    pending: createFilePendingStore(join(userData, 'pending-purchases.json'), isPendingIntent),
    clock: systemClock,
    log,
    newIntentId: randomUUID,
    visit,
  });
  if (mode === 'kiosk') {
    const store = createFileKioskVisitStore(join(userData, 'kiosk-visit.json'));
    visits = await startKioskVisits({ store, relay, clock: systemClock, log, newVisitId: randomUUID }, binding);
  }

  // Security: app://, permissions, trusted windows, guarded external links.
  const policy = { devServerUrl: o.isDev ? (o.devServerUrl ?? null) : null };
  registerAppProtocol(protocol, { rootDir: o.rendererDir, csp: buildCsp(policy) });
  installPermissionGuards(session.defaultSession, lg);
  const trusted = new TrustedWindows();
  const openExternal = createOpenExternal((u) => shell.openExternal(u), o.externalHosts ?? [], lg);
  const windowDeps = { BrowserWindow: BW, preloadPath: o.preloadPath, isDev: o.isDev, devServerUrl: policy.devServerUrl, trusted, openExternal, log: lg };

  let kiosk: KioskSession | null = null;
  const windows: BrowserWindow[] = [];
  const reloadAll = () => {
    for (const w of windows) if (!w.isDestroyed()) w.webContents.reload();
  };
  if (visits) {
    const resetVisit = createKioskReset({
      visits,
      binding,
      purchases,
      wipeStorage: () => session.defaultSession.clearStorageData(),
      reloadWindows: reloadAll,
      log,
    });
    kiosk = new KioskSession({
      clock: systemClock,
      log,
      timings: () => settings.get().kiosk,
      reset: async () => {
        await resetVisit();
        o.onKioskReset?.();
      },
    });
  }

  const handle = createHandle({ ipcMain, isTrustedSender: (e) => isTrustedSender(e, trusted, policy), log: lg, onActivity: (name) => {
      if (isCustomerActivity(name)) kiosk?.activity();
    },
  });
  registerHandlers(handle, buildHandlers({ version: o.version, binding, purchases, settings, relay, kiosk, writeClipboard: (t) => clipboard.writeText(t) }));
  const push = createPush(() => BW.getAllWindows().map((w) => w.webContents), (id) => trusted.has(id), lg);

  // Embedding events.
  const listeners: { [K in keyof EmbedEvents]: Set<(p: EmbedEvents[K]) => void> } = { bound: new Set(), unbound: new Set(), 'purchase-result': new Set() };
  const emit = <K extends keyof EmbedEvents>(k: K, p: EmbedEvents[K]) => {
    for (const l of listeners[k]) l(p);
  };
  const power = createFlowPowerGuard(powerSaveBlocker);
  binding.onChange((s, prev) => {
    push('bindingChanged', s);
    const ev = bindingEvent(s, prev);
    if (ev?.[0] === 'bound') emit('bound', ev[1]);
    else if (ev?.[0] === 'unbound') emit('unbound', ev[1]);
    if (mode === 'kiosk') power(s.state === 'QR_SHOWN' || purchases.pending().length > 0);
  });
  purchases.onChange((p) => {
    push('purchaseChanged', p);
    const ev = purchaseEvent(p);
    if (ev) emit('purchase-result', ev);
  });
  settings.onChange((s) => push('settingsChanged', s));
  kiosk?.onChange((k) => push('kioskChanged', k));

  // Windows per mode.
  let main: BrowserWindow;
  let overlay: ReturnType<typeof createOverlayController> | null = null;
  let unregisterHotkey = () => {};
  if (mode === 'kiosk') {
    Menu.setApplicationMenu(null);
    main = createSecureWindow(windowDeps, { kind: 'kiosk', shape: kioskWindowShape(), route: ROUTES.kiosk });
    installRendererWatchdog(main, {
      log: lg,
      relaunch: (reason) => {
        log.error('relaunching after renderer failures', { reason });
        app.relaunch();
        app.exit(1);
      },
    });
    main.webContents.on('before-input-event', () => kiosk?.activity());
    main.once('ready-to-show', () => main.show());
  } else if (mode === 'overlay') {
    const { bounds } = screen.getPrimaryDisplay();
    main = createSecureWindow(windowDeps, { kind: 'overlay', shape: overlayWindowShape(bounds), route: ROUTES.overlay, contentProtection: true });
    const fallback = () => {
      log.warn('overlay cannot draw here; falling back to a normal window', {});
      const w = createSecureWindow(windowDeps, { kind: 'main', shape: mainWindowShape(), route: ROUTES.main, contentProtection: true });
      windows.push(w);
      w.once('ready-to-show', () => w.show());
    };
    overlay = createOverlayController(main, fallback);
    unregisterHotkey = registerOverlayHotkey(globalShortcut, o.overlayHotkey ?? 'CommandOrControl+Shift+P', () => overlay?.toggle(), lg);
  } else {
    main = createSecureWindow(windowDeps, { kind: 'main', shape: mainWindowShape(), route: ROUTES.main, contentProtection: true });
    main.once('ready-to-show', () => main.show());
  }
  windows.push(main);

  // Status stream, restore, resume.
  const stream = new StatusStream(
    (signal, last) => relay.openEvents(signal, last),
    relayEventRouter(binding, purchases, log),
    systemClock,
    log,
  );
  connectivity.reportSystem(net.isOnline());
  connectivity.onChange((c) => {
    log.info('connectivity', { state: c });
    if (c === 'online') stream.reconnectNow();
  });
  await binding.restore();
  void purchases.resume();
  stream.start();

  const show = (route: string) => {
    void main.loadURL(appUrlFor(route, policy)).catch(() => undefined);
    if (overlay) overlay.show();
    else if (!main.isVisible()) main.show();
  };
  return {
    mode,
    binding,
    purchases,
    settings,
    flowVisible: () => {
      const state = binding.status().state;
      return state === 'QR_SHOWN' || state === 'AUTHORIZED' || purchases.pending().length > 0 || (kiosk !== null && kiosk.status().phase !== 'attract');
    },
    openBinding: async () => show('#/bind'),
    openPurchase: async (sku, quantity) => show(`#/purchase/${encodeURIComponent(sku)}/${quantity}`),
    on: (event, listener) => {
      listeners[event].add(listener);
      return () => listeners[event].delete(listener);
    },
    dispose: () => {
      stream.stop();
      binding.dispose();
      purchases.dispose();
      kiosk?.dispose();
      visits?.dispose();
      unregisterHotkey();
    },
  };
}
