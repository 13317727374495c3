import { QuantitySchema, SkuSchema } from '@scan-to-bind/shared/ipc';
import { startRuntime } from '../platform/app-runtime.ts';
import type { PlayerAssertionProvider } from '../services/relay/relay-api.ts';
import type { EmbedEvents } from './events.ts';

export type { PlayerAssertionProvider, PlayerAssertionRequest } from '../services/relay/relay-api.ts';

export { EMBED_STATUSES, type BoundEvent, type EmbedEvents, type EmbedStatus, type PurchaseResultEvent, type UnboundEvent } from './events.ts';

/** What a studio's launcher passes. */
export interface ScanToBindOptions {
  /** Where the built renderer and preload of this package are (out/renderer, out/preload/preload.cjs). */
  readonly rendererDir: string;
  readonly preloadPath: string;
  /** The relay this device talks to. */
  readonly relayUrl: string;
  /** A one-time enrolment code, on first run only; later runs use the credential in the OS keychain. */
  readonly enrollCode?: string;
  /**
   * Returns the current player's assertion (a JWT from the studio's game server) for this
   * device: its `did` claim must be `deviceId` and it lives at most the relay's
   * `players.maxLifetimeSeconds` (15 minutes by default). Asked before every relay request (cache
   * and renew before expiry) and again with `refresh: true` after the relay refused a token.
   */
  readonly playerAssertion: PlayerAssertionProvider;
  /** 'embedded' (a window of ours) or 'overlay' (over a borderless game). */
  readonly mode?: 'embedded' | 'overlay';
  readonly version?: string;
  readonly overlayHotkey?: string;
  readonly externalHosts?: readonly string[];
}

/** The library API a studio's Electron launcher uses. */
export interface ScanToBind {
  /** Shows the wallet picker / QR. */
  openBinding(): Promise<void>;
  /** Shows the purchase dialog for a SKU of the relay's catalogue. */
  openPurchase(sku: string, quantity?: number): Promise<void>;
  /** Subscribes to `bound`, `unbound` or `purchase-result`; returns the unsubscribe function. */
  on<K extends keyof EmbedEvents>(event: K, listener: (payload: EmbedEvents[K]) => void): () => void;
  /** Stops timers, the status stream and the hotkey. */
  close(): void;
}

/**
 * Starts Scan to Bind inside the studio's own Electron app. Call `registerScanToBindScheme()`
 * before `app` is ready, then this after `app.whenReady()`. See docs/embedding.md.
 */
export async function createScanToBind(options: ScanToBindOptions): Promise<ScanToBind> {
  const runtime = await startRuntime({
    mode: options.mode ?? 'embedded',
    isDev: false,
    rendererDir: options.rendererDir,
    preloadPath: options.preloadPath,
    version: options.version ?? '0.0.0',
    playerAssertion: options.playerAssertion,
    relayUrl: options.relayUrl,
    enrollCode: options.enrollCode,
    overlayHotkey: options.overlayHotkey,
    externalHosts: options.externalHosts,
  });
  return {
    openBinding: () => runtime.openBinding(),
    openPurchase: (sku, quantity = 1) => {
      if (!SkuSchema.safeParse(sku).success || !QuantitySchema.safeParse(quantity).success) {
        return Promise.reject(new TypeError('invalid sku or quantity'));
      }
      return runtime.openPurchase(sku, quantity);
    },
    on: (event, listener) => runtime.on(event, listener),
    close: () => runtime.dispose(),
  };
}

export { registerScanToBindScheme } from '../platform/scheme.ts';
