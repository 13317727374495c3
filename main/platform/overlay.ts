import type { BrowserWindow, GlobalShortcut } from 'electron';

/** Controls the pre-created overlay window. */
export interface OverlayController {
  /** Shows a flow (binding QR or purchase dialog) without taking focus from the game. */
  show(): void;
  /** Hides the overlay and makes it click-through again. */
  hide(): void;
  toggle(): void;
  readonly isVisible: boolean;
}

/**
 * The overlay over a borderless-window game (window rule: the overlay is transparent, frameless,
 * shown inactive, click-through). The window is created hidden at start, so showing it costs one
 * frame. It floats at the 'screen-saver' level on every workspace, is shown with showInactive() so
 * the game keeps focus, and is click-through (mouse forwarded) whenever no flow is on screen;
 * while a flow is shown it takes input. Where it cannot draw (exclusive full screen),
 * `onUnavailable` lets the caller fall back.
 */
export function createOverlayController(win: BrowserWindow, onUnavailable: () => void): OverlayController {
  win.setAlwaysOnTop(true, 'screen-saver');
  win.setVisibleOnAllWorkspaces(true, { visibleOnFullScreen: true });
  win.setIgnoreMouseEvents(true, { forward: true });
  let visible = false;
  const controller: OverlayController = {
    show() {
      win.setIgnoreMouseEvents(false);
      win.setFocusable(true);
      win.showInactive();
      visible = true;
      if (!win.isVisible()) onUnavailable();
    },
    hide() {
      win.setIgnoreMouseEvents(true, { forward: true });
      win.setFocusable(false);
      win.hide();
      visible = false;
    },
    toggle() {
      if (visible) controller.hide();
      else controller.show();
    },
    get isVisible() {
      return visible;
    },
  };
  return controller;
}

/** Registers the overlay's global hotkey; a hotkey another app holds is logged, not fatal. */
export function registerOverlayHotkey(
  shortcuts: GlobalShortcut,
  accelerator: string,
  onPress: () => void,
  log: (m: string, f: Record<string, unknown>) => void,
): () => void {
  const ok = shortcuts.register(accelerator, onPress);
  if (!ok) log('overlay hotkey is taken', { accelerator });
  return () => shortcuts.unregister(accelerator);
}
