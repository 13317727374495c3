import { isAbsolute } from 'node:path';
import type { WebPreferences } from 'electron';

/** What varies between builds; everything else is fixed. */
export interface WebPreferencesOptions {
  /** Absolute path of the one bundled preload file (out/preload/preload.cjs). */
  readonly preloadPath: string;
  /** Development build: DevTools allowed. Never true in a packaged app. */
  readonly isDev: boolean;
}

/**
 * The only webPreferences any window gets (window rule: one secure factory, fixed webPreferences):
 * isolated, sandboxed, no Node anywhere, web security on, no webviews, no experimental or Blink
 * features, DevTools only in development, and exactly one bundled CommonJS preload.
 */
export function secureWebPreferences(options: WebPreferencesOptions): WebPreferences {
  if (!isAbsolute(options.preloadPath) || !options.preloadPath.endsWith('.cjs')) {
    throw new Error('preload must be the absolute path of the bundled .cjs file');
  }
  return {
    preload: options.preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    devTools: options.isDev,
    navigateOnDragDrop: false,
    spellcheck: false,
    safeDialogs: true,
    autoplayPolicy: 'user-gesture-required',
    enableWebSQL: false,
  };
}
