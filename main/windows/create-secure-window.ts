import type { BrowserWindow, BrowserWindowConstructorOptions } from 'electron';
import { appUrlFor, type OriginPolicy } from '../security/app-origin.ts';
import { installNavigationGuards } from '../security/navigation-guard.ts';
import type { TrustedWindows } from '../security/trusted-windows.ts';
import { secureWebPreferences } from '../security/web-preferences.ts';
import type { WindowKind, WindowShape } from './window-options.ts';

/** The BrowserWindow constructor, injected so tests can pass a fake one. */
export type BrowserWindowCtor = new (options: BrowserWindowConstructorOptions) => BrowserWindow;

/** Everything every window shares. */
export interface SecureWindowDeps extends OriginPolicy {
  readonly BrowserWindow: BrowserWindowCtor;
  readonly preloadPath: string;
  readonly isDev: boolean;
  readonly trusted: TrustedWindows;
  readonly openExternal: (url: string) => Promise<boolean>;
  readonly log: (message: string, fields: Record<string, unknown>) => void;
}

/** One window to create. */
export interface WindowSpec {
  readonly kind: WindowKind;
  readonly shape: WindowShape;
  readonly route: string;
  /** Hide from screen capture (window rule: the purchase dialog is content-protected). */
  readonly contentProtection?: boolean;
}

/**
 * The only way to create a window (window rule: one secure factory, fixed webPreferences). It
 * fixes webPreferences (a caller's own are discarded), starts hidden, records the window as a
 * trusted IPC sender, installs the navigation / window-open / webview guards before the first
 * load, and loads only app:// (or the dev server in development).
 */
export function createSecureWindow(deps: SecureWindowDeps, spec: WindowSpec): BrowserWindow {
  const { webPreferences: _ignored, ...shape } = spec.shape as BrowserWindowConstructorOptions;
  const win = new deps.BrowserWindow({
    ...shape,
    show: false,
    webPreferences: secureWebPreferences({ preloadPath: deps.preloadPath, isDev: deps.isDev }),
  });
  const id = win.webContents.id;
  deps.trusted.add(id);
  win.once('closed', () => deps.trusted.remove(id));
  installNavigationGuards(win.webContents, {
    devServerUrl: deps.isDev ? deps.devServerUrl : null,
    openExternal: deps.openExternal,
    log: deps.log,
  });
  if (spec.contentProtection) win.setContentProtection(true);
  void win.loadURL(appUrlFor(spec.route, { devServerUrl: deps.isDev ? deps.devServerUrl : null })).catch((error: unknown) => {
    deps.log('window load failed', { kind: spec.kind, error: String(error) });
  });
  return win;
}
