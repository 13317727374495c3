import { resolveLocale } from '@scan-to-bind/shared/domain';
import { SettingsSchema } from '@scan-to-bind/shared/ipc';
import type { z } from 'zod';
import type { SettingsStore } from './ports.ts';

/** The non-secret settings (shared contract shape). */
export type Settings = z.output<typeof SettingsSchema>;
/** What the player may change. */
export type PlayerPatch = { locale?: Settings['locale']; lastWallet?: Settings['lastWallet'] };
/** What the operator (command line, handover, kiosk config) may change. */
export type OperatorPatch = Partial<Pick<Settings, 'mode' | 'relayUrl' | 'kiosk'>>;

/** The defaults for a fresh install. */
export function defaultSettings(systemLocale?: string | null): Settings {
  return {
    locale: resolveLocale(systemLocale),
    lastWallet: null,
    mode: 'embedded',
    kiosk: { idleSeconds: 90, promptSeconds: 20 },
    relayUrl: 'http://127.0.0.1:8787',
  };
}

const FIELDS = ['locale', 'lastWallet', 'mode', 'kiosk', 'relayUrl'] as const;

/**
 * Reads a stored document field by field: a field that fails the schema (a hand-edited
 * file) falls back to its default instead of discarding everything; unknown keys are dropped.
 */
export function sanitiseSettings(raw: unknown, defaults: Settings): Settings {
  const doc = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const out: Record<string, unknown> = {};
  for (const key of FIELDS) {
    const candidate = { ...defaults, [key]: doc[key] };
    out[key] = SettingsSchema.safeParse(candidate).success ? doc[key] : defaults[key];
  }
  return SettingsSchema.parse(out);
}

/**
 * Settings on a store (electron-store): locale, last wallet, mode, kiosk options, relay URL.
 * Nothing secret is ever written here: the schema is strict, so a secret-looking key cannot
 * be saved. Listeners hear every change (pushed to the renderer as settings:changed).
 */
export class SettingsService {
  readonly #store: SettingsStore;
  #current: Settings;
  readonly #listeners = new Set<(s: Settings) => void>();

  constructor(store: SettingsStore, defaults: Settings) {
    this.#store = store;
    this.#current = sanitiseSettings(store.load(), defaults);
  }

  /** The current settings. */
  get(): Settings {
    return structuredClone(this.#current);
  }

  /** Applies the player's own preferences. */
  setPlayer(patch: PlayerPatch): Settings {
    return this.#apply({ ...patch });
  }

  /** Applies operator settings (never reachable from the renderer). */
  setOperator(patch: OperatorPatch): Settings {
    return this.#apply({ ...patch });
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(listener: (s: Settings) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #apply(patch: Record<string, unknown>): Settings {
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    const next = SettingsSchema.parse({ ...this.#current, ...defined });
    this.#current = next;
    this.#store.save(next);
    for (const l of this.#listeners) l(this.get());
    return this.get();
  }
}
