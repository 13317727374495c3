import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as electron from 'electron';
import type { BrowserWindow } from 'electron';
import { clientFileStores } from '../adapters/client-files.ts';
import { createKeytarSecretStore } from '../adapters/secret-store.keytar.ts';
import { createElectronSettingsStore } from '../adapters/settings-store.electron-store.ts';
import { createGotRelayHttp } from '../adapters/relay-client.got.ts';
import { createRedactingLogger, fileSink, stderrSink } from '../adapters/logger.plain.ts';
import type { EmbedEvents } from '../embed/events.ts';
import { createHandle, registerHandlers } from '../ipc/handle.ts';
import { createPush } from '../ipc/push.ts';
import { appUrlFor } from '../security/app-origin.ts';
import { registerAppProtocol } from '../security/app-protocol.ts';
import { buildCsp } from '../security/csp.ts';
import { createOpenExternal } from '../security/navigation-guard.ts';
import { installPermissionGuards } from '../security/permissions.ts';
import { isTrustedSender } from '../security/sender-check.ts';
import { TrustedWindows } from '../security/trusted-windows.ts';
import type { BindingService } from '../services/binding-service.ts';
import { type ClientMode, createClient } from '../services/create-client.ts';
import { devStudioAssertions } from '../services/dev-studio.ts';
import { parseHandover } from '../services/handover.ts';
import { launchEnvironment } from '../services/launch-environment.ts';
import type { Logger } from '../services/ports.ts';
import type { PurchaseService } from '../services/purchase-service.ts';
import type { PlayerAssertionProvider } from '../services/relay/relay-api.ts';
import type { SettingsService } from '../services/settings-service.ts';
import { createSecureWindow } from '../windows/create-secure-window.ts';
import { kioskWindowShape, mainWindowShape, overlayWindowShape, ROUTES } from '../windows/window-options.ts';
import { createOverlayController, registerOverlayHotkey } from './overlay.ts';
import { createFlowPowerGuard } from './power-save.ts';
import { installRendererWatchdog } from './watchdog.ts';

/** How the runtime is started (standalone main/index.ts or a studio's launcher via main/embed). */
export interface RuntimeOptions {
  readonly mode?: ClientMode;
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
  readonly mode: ClientMode;
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

  const http = createGotRelayHttp();
  // The studio's provider, else `npm start`'s demo studio, else a fixed development token.
  const playerAssertion: PlayerAssertionProvider =
    o.playerAssertion ?? (handover?.devStudio ? devStudioAssertions(handover.devStudio, http) : async () => handover?.playerAssertion ?? null);
  // Security first: app:// and the trusted windows exist before any window or push.
  const policy = { devServerUrl: o.isDev ? (o.devServerUrl ?? null) : null };
  registerAppProtocol(protocol, { rootDir: o.rendererDir, csp: buildCsp(policy) });
  installPermissionGuards(session.defaultSession, lg);
  const trusted = new TrustedWindows();
  const windows: BrowserWindow[] = [];
  const power = createFlowPowerGuard(powerSaveBlocker);
  const relayUrl = o.relayUrl ?? handover?.relayUrl;
  const mode = o.mode ?? handover?.mode;
  const client = await createClient({
    secrets: createKeytarSecretStore(),
    settingsStore: createElectronSettingsStore({ cwd: userData }),
    http,
    log,
    ...clientFileStores(userData, log),
    locale: app.getLocale(),
    // https only in a packaged build (services/relay-url-policy.ts): no request goes elsewhere.
    isPackaged: app.isPackaged,
    version: o.version,
    ...(mode ? { mode } : {}),
    ...(relayUrl ? { relayUrl } : {}),
    playerAssertion,
    newId: randomUUID,
    push: createPush(
      () => BW.getAllWindows().map((w) => w.webContents),
      (id) => trusted.has(id),
      lg,
    ),
    wipeStorage: () => session.defaultSession.clearStorageData(),
    reloadWindows: () => {
      for (const w of windows) if (!w.isDestroyed()) w.webContents.reload();
    },
    ...(o.onKioskReset ? { onKioskReset: o.onKioskReset } : {}),
    writeClipboard: (t) => clipboard.writeText(t),
    keepAwake: power,
  });
  try {
    if (handover?.device) await client.vault.setDeviceCredential({ relayUrl: client.settings.get().relayUrl, ...handover.device });
    const code = o.enrollCode ?? handover?.enrollCode;
    if (code) await client.enrol(code, `${app.getName()} ${client.mode}`);
  } catch (error) {
    log.error('device enrolment failed', { error: String(error) });
  }

  const openExternal = createOpenExternal((u) => shell.openExternal(u), o.externalHosts ?? [], lg);
  const windowDeps = { BrowserWindow: BW, preloadPath: o.preloadPath, isDev: o.isDev, devServerUrl: policy.devServerUrl, trusted, openExternal, log: lg };
  const handle = createHandle({ ipcMain, isTrustedSender: (e) => isTrustedSender(e, trusted, policy), log: lg, onActivity: (name) => client.activity(name) });
  registerHandlers(handle, client.handlers);
  const { kiosk } = client;

  // Windows per mode.
  let main: BrowserWindow;
  let overlay: ReturnType<typeof createOverlayController> | null = null;
  let unregisterHotkey = () => {};
  if (client.mode === 'kiosk') {
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
  } else if (client.mode === 'overlay') {
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

  client.connectivity.reportSystem(net.isOnline());
  await client.start();

  const show = (route: string) => {
    void main.loadURL(appUrlFor(route, policy)).catch(() => undefined);
    if (overlay) overlay.show();
    else if (!main.isVisible()) main.show();
  };
  return {
    mode: client.mode,
    binding: client.binding,
    purchases: client.purchases,
    settings: client.settings,
    flowVisible: () => client.flowVisible(),
    openBinding: async () => show('#/bind'),
    openPurchase: async (sku, quantity) => show(`#/purchase/${encodeURIComponent(sku)}/${quantity}`),
    on: (event, listener) => client.on(event, listener),
    dispose: () => {
      client.dispose();
      unregisterHotkey();
    },
  };
}
