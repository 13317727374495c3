import type { KioskStatusSchema } from '@scan-to-bind/shared/ipc';
import type { z } from 'zod';
import type { Clock, Logger } from './ports.ts';

/** The kiosk session as the renderer sees it. */
export type KioskStatus = z.output<typeof KioskStatusSchema>;

/**
 * Calls every page makes by itself when it loads (and reloads after a reset): they are not a
 * customer at the screen. Counting them as activity started a visit on the attract screen
 * after every reset, so the attract screen never stayed up (found by the e2e kiosk scenarios).
 */
const PASSIVE_CALLS: ReadonlySet<string> = new Set(['appInfo', 'getSettings', 'listWallets', 'bindingStatus', 'pendingPurchases', 'purchaseStatus']);

/** True for an IPC call that means a customer is using the screen. */
export function isCustomerActivity(invoke: string): boolean {
  return !PASSIVE_CALLS.has(invoke);
}

/** What the kiosk session needs. */
export interface KioskSessionDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly timings: () => { idleSeconds: number; promptSeconds: number };
  /** Wipes the visit: withdraw a pending QR, revoke the visit binding, clear storage, reload. */
  readonly reset: () => Promise<void>;
}

/**
 * The kiosk visit: attract → active (on the first touch) → "Still there?" after the idle time
 * → reset after the prompt's countdown, unless the customer answers. The reset wipes everything
 * of the visit and returns to the attract screen. Timers come from the Clock port.
 */
export class KioskSession {
  readonly #d: KioskSessionDeps;
  #status: KioskStatus = { phase: 'attract', secondsLeft: null };
  #timer: unknown = null;
  readonly #listeners = new Set<(s: KioskStatus) => void>();

  constructor(deps: KioskSessionDeps) {
    this.#d = deps;
  }

  /** The current phase. */
  status(): KioskStatus {
    return this.#status;
  }

  /** Subscribes; returns the unsubscribe function. */
  onChange(listener: (s: KioskStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Any input or IPC call of the customer: starts a visit or restarts the idle timer. */
  activity(): void {
    if (this.#status.phase === 'resetting') return;
    if (this.#status.phase === 'still-there') return; // only the prompt's own answer counts
    this.#set({ phase: 'active', secondsLeft: null });
    this.#arm(this.#d.timings().idleSeconds * 1000, () => this.#prompt());
  }

  /** The customer answered "Still there?". */
  stillHere(): KioskStatus {
    if (this.#status.phase === 'still-there' || this.#status.phase === 'active' || this.#status.phase === 'attract') {
      this.#set({ phase: 'active', secondsLeft: null });
      this.#arm(this.#d.timings().idleSeconds * 1000, () => this.#prompt());
    }
    return this.#status;
  }

  /** Ends the visit now (the customer pressed "Done", or the prompt ran out). */
  async endSession(): Promise<KioskStatus> {
    if (this.#status.phase === 'resetting') return this.#status;
    this.#clear();
    this.#set({ phase: 'resetting', secondsLeft: null });
    try {
      await this.#d.reset();
    } catch (error) {
      this.#d.log.error('kiosk reset failed', { error: String(error) });
    }
    this.#set({ phase: 'attract', secondsLeft: null });
    return this.#status;
  }

  /** Stops timers. */
  dispose(): void {
    this.#clear();
  }

  #prompt(): void {
    this.#tick(this.#d.timings().promptSeconds);
  }

  #tick(secondsLeft: number): void {
    if (secondsLeft <= 0) {
      void this.endSession();
      return;
    }
    this.#set({ phase: 'still-there', secondsLeft: Math.min(secondsLeft, 300) });
    this.#arm(1000, () => this.#tick(secondsLeft - 1));
  }

  #arm(ms: number, fn: () => void): void {
    this.#clear();
    this.#timer = this.#d.clock.setTimeout(() => {
      this.#timer = null;
      fn();
    }, ms);
  }

  #clear(): void {
    if (this.#timer !== null) this.#d.clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  #set(next: KioskStatus): void {
    if (next.phase === this.#status.phase && next.secondsLeft === this.#status.secondsLeft) return;
    this.#status = next;
    for (const l of this.#listeners) l(next);
  }
}

/** What a kiosk reset touches. */
export interface KioskResetDeps {
  readonly visits: { rotate(endBindingId: string | null): Promise<unknown>; drain(): void };
  readonly binding: { readonly bindingId: string | null; forgetVisit(): Promise<unknown> };
  readonly purchases: { forgetQuotes(): void };
  readonly wipeStorage: () => Promise<void>;
  readonly reloadWindows: () => void;
  readonly log: Logger;
}

/**
 * The reset of one visit (issue 14), in order: (1) a new visit id and the end of the old
 * binding (a shown QR or a link) written to the durable outbox in one write; (2) the local
 * wipe — binding, QR and vault reference, quotes, the renderer's storage, a reload — none of
 * which waits on the network; (3) the outbox sent in the background until the relay confirms.
 * Each step runs even if an earlier one failed; pending purchases are kept (money state).
 */
export function createKioskReset(d: KioskResetDeps): () => Promise<void> {
  return async () => {
    const step = async (name: string, op: () => Promise<unknown> | unknown) => {
      try {
        await op();
      } catch (error) {
        d.log.warn('kiosk reset step failed', { step: name, error: String(error) });
      }
    };
    await step('rotate', () => d.visits.rotate(d.binding.bindingId));
    await step('binding', () => d.binding.forgetVisit());
    await step('quotes', () => d.purchases.forgetQuotes());
    await step('storage', () => d.wipeStorage());
    await step('reload', () => d.reloadWindows());
    d.visits.drain();
  };
}
