import type { BrowserWindowConstructorOptions } from 'electron';

/** Every kind of window the product opens. */
export type WindowKind = 'main' | 'overlay' | 'kiosk';

/** Window options without webPreferences: the secure factory always supplies those itself. */
export type WindowShape = Omit<BrowserWindowConstructorOptions, 'webPreferences'>;

const COMMON: WindowShape = Object.freeze({
  show: false,
  backgroundColor: '#101014',
  autoHideMenuBar: true,
  title: 'Scan to Bind',
});

/** The launcher / embedded dialog window: a normal, resizable window. */
export function mainWindowShape(): WindowShape {
  return { ...COMMON, width: 480, height: 640, minWidth: 360, minHeight: 520, resizable: true };
}

/**
 * The overlay (window rule: the overlay is transparent, frameless, click-through): transparent,
 * frameless, no shadow, off the taskbar, not focusable until a flow needs the keyboard, always on
 * top. It is created hidden at start so that showing it costs one frame, and shown with
 * `showInactive()` so the game keeps focus.
 */
export function overlayWindowShape(bounds: { x: number; y: number; width: number; height: number }): WindowShape {
  return {
    ...COMMON,
    ...bounds,
    backgroundColor: '#00000000',
    transparent: true,
    frame: false,
    hasShadow: false,
    resizable: false,
    movable: false,
    minimizable: false,
    maximizable: false,
    fullscreenable: false,
    skipTaskbar: true,
    focusable: false,
    alwaysOnTop: true,
    roundedCorners: false,
  };
}

/** The kiosk window: full screen kiosk mode, no frame, nothing to close or resize. */
export function kioskWindowShape(): WindowShape {
  return {
    ...COMMON,
    kiosk: true,
    fullscreen: true,
    frame: false,
    resizable: false,
    movable: false,
    minimizable: false,
    maximizable: false,
    closable: false,
    skipTaskbar: true,
  };
}

/** The route (hash) each window kind opens at. */
export const ROUTES: Readonly<Record<WindowKind, string>> = Object.freeze({
  main: '#/',
  overlay: '#/overlay',
  kiosk: '#/kiosk',
});
