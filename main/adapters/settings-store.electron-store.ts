import ElectronStore from 'electron-store';
import type { SettingsStore } from '../services/ports.ts';

/** Options of the settings file. */
export interface ElectronSettingsOptions {
  /** Folder of the file; electron-store defaults to app.getPath('userData'). */
  readonly cwd?: string;
  /** File name without extension. */
  readonly name?: string;
}

/** The part of electron-store / conf the adapter uses. */
export interface StoreLike {
  store: Record<string, unknown>;
}

/**
 * SettingsStore on electron-store: one JSON file in the user-data folder. Validation, defaults
 * and the no-secrets rule live in SettingsService; a corrupt file is reset by the library.
 */
export function createElectronSettingsStore(options: ElectronSettingsOptions = {}): SettingsStore {
  const store = new ElectronStore<Record<string, unknown>>({
    name: options.name ?? 'settings',
    cwd: options.cwd,
    clearInvalidConfig: true,
    accessPropertiesByDotNotation: false,
  });
  return settingsStoreOn(store);
}

/** Adapts any electron-store or conf instance. */
export function settingsStoreOn(store: StoreLike): SettingsStore {
  return {
    load: () => store.store,
    save: (value) => {
      store.store = { ...value };
    },
  };
}
