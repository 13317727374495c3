import type { BrowserWindowConstructorOptions } from 'electron';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { TrustedWindows } from '../../../../main/security/trusted-windows.ts';
import { type BrowserWindowCtor, createSecureWindow } from '../../../../main/windows/create-secure-window.ts';
import { kioskWindowShape, mainWindowShape, overlayWindowShape, ROUTES, type WindowKind, type WindowShape } from '../../../../main/windows/window-options.ts';
import { FakeBrowserWindow, fakeNavEvent } from '../../../fakes/fake-electron.ts';
import { expectedSecureWebPreferences } from '../security/expected-web-preferences.ts';

const preloadPath = '/opt/app/out/preload/preload.cjs';

const SECURE = expectedSecureWebPreferences(preloadPath);

function deps(trusted = new TrustedWindows()) {
  return {
    BrowserWindow: FakeBrowserWindow as unknown as BrowserWindowCtor,
    preloadPath,
    isDev: false,
    devServerUrl: 'http://127.0.0.1:5173',
    trusted,
    openExternal: vi.fn(async () => true),
    log: vi.fn(),
  };
}

const shapes: Array<[WindowKind, WindowShape]> = [
  ['main', mainWindowShape()],
  ['overlay', overlayWindowShape({ x: 0, y: 0, width: 800, height: 600 })],
  ['kiosk', kioskWindowShape()],
];

describe('createSecureWindow', () => {
  beforeEach(() => {
    FakeBrowserWindow.created = [];
  });

  it.each(shapes)('gives the %s window the secure webPreferences, hidden, on app://', (kind, shape) => {
    const d = deps();
    const win = createSecureWindow(d, { kind, shape, route: ROUTES[kind] }) as unknown as FakeBrowserWindow;
    expect(win.options.webPreferences).toEqual(SECURE);
    expect(win.options.show).toBe(false);
    expect(win.loadedUrl).toBe(`app://app/index.html${ROUTES[kind]}`);
    expect(d.trusted.has(win.webContents.id)).toBe(true);
    expect(win.webContents.windowOpenHandler).not.toBeNull();
    expect(win.webContents.listeners.has('will-navigate')).toBe(true);
    expect(win.webContents.listeners.has('will-frame-navigate')).toBe(true);
    expect(win.webContents.listeners.has('will-redirect')).toBe(true);
    expect(win.webContents.listeners.has('will-attach-webview')).toBe(true);
  });

  it('discards a caller-supplied webPreferences', () => {
    const shape = { ...mainWindowShape(), webPreferences: { nodeIntegration: true, sandbox: false } } as WindowShape;
    const win = createSecureWindow(deps(), { kind: 'main', shape, route: '#/' }) as unknown as FakeBrowserWindow;
    expect(win.options.webPreferences).toEqual(SECURE);
  });

  it('ignores the dev server outside development and uses it in development', () => {
    const prod = createSecureWindow(deps(), { kind: 'main', shape: mainWindowShape(), route: '#/' });
    expect((prod as unknown as FakeBrowserWindow).loadedUrl).toMatch(/^app:\/\/app\//);
    const d = { ...deps(), isDev: true };
    const dev = createSecureWindow(d, { kind: 'main', shape: mainWindowShape(), route: '#/' });
    const fake = dev as unknown as FakeBrowserWindow;
    expect(fake.loadedUrl).toBe('http://127.0.0.1:5173/#/');
    expect((fake.options.webPreferences as BrowserWindowConstructorOptions['webPreferences'])?.devTools).toBe(true);
  });

  it('guards navigation on the new window', () => {
    const win = createSecureWindow(deps(), { kind: 'main', shape: mainWindowShape(), route: '#/' });
    const e = fakeNavEvent('https://relay.example.com.evil.test/');
    (win as unknown as FakeBrowserWindow).webContents.emit('will-navigate', e);
    expect(e.defaultPrevented).toBe(true);
  });

  it('turns on content protection when asked (purchase dialog)', () => {
    const win = createSecureWindow(deps(), {
      kind: 'overlay',
      shape: mainWindowShape(),
      route: '#/',
      contentProtection: true,
    }) as unknown as FakeBrowserWindow;
    expect(win.calls).toContainEqual(['setContentProtection', true]);
  });

  it('forgets a window when it closes', () => {
    const d = deps();
    const win = createSecureWindow(d, { kind: 'main', shape: mainWindowShape(), route: '#/' }) as unknown as FakeBrowserWindow;
    const id = win.webContents.id;
    win.close();
    expect(d.trusted.has(id)).toBe(false);
  });
});

describe('window shapes', () => {
  it('overlay: transparent, frameless, on top, off the taskbar, not focusable', () => {
    const s = overlayWindowShape({ x: 1, y: 2, width: 3, height: 4 });
    expect(s).toMatchObject({
      transparent: true,
      frame: false,
      alwaysOnTop: true,
      skipTaskbar: true,
      focusable: false,
      hasShadow: false,
      resizable: false,
      show: false,
      backgroundColor: '#00000000',
      x: 1,
      y: 2,
      width: 3,
      height: 4,
    });
  });

  it('kiosk: kiosk full screen, frameless, cannot be closed or resized', () => {
    expect(kioskWindowShape()).toMatchObject({
      kiosk: true,
      fullscreen: true,
      frame: false,
      closable: false,
      resizable: false,
      minimizable: false,
      show: false,
    });
  });

  it('no shape carries webPreferences', () => {
    for (const [, s] of shapes) expect(s).not.toHaveProperty('webPreferences');
  });
});
