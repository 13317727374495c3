import { BINDING_TERMINAL, bindingTransition, canPayWith, DomainError, type WalletId } from '@scan-to-bind/shared/domain';
import { type BindingStatus, bindingEventFor, NO_BINDING, toBindingStatus } from './binding-status.ts';
import type { Clock, Logger } from './ports.ts';
import type { RelayApi } from './relay/relay-api.ts';
import { toRelayError } from './relay/errors.ts';
import type { RelayBinding } from '@scan-to-bind/shared/relay-api';
import type { Vault } from './vault.ts';

/** The relay calls the binding service uses. */
export type BindingRelay = Pick<RelayApi, 'createBinding' | 'currentBinding' | 'getBinding' | 'refreshCode' | 'withdraw' | 'revoke'>;

/** What the binding service needs. */
export interface BindingServiceDeps {
  readonly relay: BindingRelay;
  readonly vault: Vault;
  readonly clock: Clock;
  readonly log: Logger;
  /** The key of the current player's binding reference in the vault. */
  readonly playerKey: () => Promise<string>;
  /** Remembers the wallet the player chose last (settings). */
  readonly rememberWallet?: (wallet: WalletId) => void;
  /**
   * Kiosks: the current visit id (kiosk-visits.ts). Bindings are started for it, and a binding
   * of any other visit the relay reports (restore, events, answers) is ignored.
   */
  readonly visit?: () => string | null;
}

/** A binding that can pay, as the purchase service needs it. */
export interface ActiveBinding {
  readonly bindingId: string;
  readonly wallet: WalletId;
  readonly maskedAccount: string;
}

/** How long after a code's expiry a renewal from the relay is awaited before the code is shown as dead. */
const RENEWAL_GRACE_MS = 30_000;

/**
 * The player's wallet binding, mirrored from the relay and driven through the shared binding
 * state machine: start, the player's tap for a new code, withdrawal and unlink. The QR code's
 * life is the relay's (its worker renews an unscanned code at expiry, capped by refreshesLeft,
 * then ends the binding): this service shows the codes the relay pushes and calls the relay
 * only when the player asks. The binding reference (an opaque relay id) lives in the vault; a
 * keychain failure is a clear KEYCHAIN_* state, never a fallback.
 */
export class BindingService {
  readonly #d: BindingServiceDeps;
  #bindingId: string | null = null;
  #version = -1;
  #status: BindingStatus = NO_BINDING;
  #expiryTimer: unknown = null;
  /** Bindings this client withdrew or unlinked: late relay statuses about them must not bring them back. */
  readonly #forgotten = new Set<string>();
  readonly #listeners = new Set<(s: BindingStatus, previous: BindingStatus) => void>();

  constructor(deps: BindingServiceDeps) {
    this.#d = deps;
  }

  /** The current status (what binding:status answers). */
  status(): BindingStatus {
    return this.#status;
  }

  /** The binding that can pay, or a DomainError saying why there is none. */
  active(): ActiveBinding {
    const s = this.#status;
    // A keychain we could not read hides whether there is a binding: say that, not "none".
    if (!this.#bindingId && (s.error === 'KEYCHAIN_LOCKED' || s.error === 'KEYCHAIN_UNAVAILABLE')) throw new DomainError(s.error);
    if (!this.#bindingId || s.state === 'NONE' || !s.wallet) throw new DomainError('BINDING_NOT_FOUND');
    if (!canPayWith(s.state)) {
      if (s.state === 'REVOKED') throw new DomainError('BINDING_REVOKED');
      if (s.state === 'EXPIRED') throw new DomainError('BINDING_EXPIRED');
      if (s.state === 'FAILED') throw new DomainError('BINDING_FAILED');
      throw new DomainError('BINDING_NOT_ACTIVE');
    }
    return { bindingId: this.#bindingId, wallet: s.wallet, maskedAccount: s.maskedAccount ?? '••••' };
  }

  /** The binding id (for the kiosk reset and the stream); null when none. */
  get bindingId(): string | null {
    return this.#bindingId;
  }

  /** Subscribes to status changes; returns the unsubscribe function. */
  onChange(listener: (s: BindingStatus, previous: BindingStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Restores the player's binding at start: the vault's reference, checked with the relay; or
   * the relay's current binding. Failures leave a status with the error code, never a throw.
   */
  async restore(): Promise<BindingStatus> {
    try {
      const player = await this.#d.playerKey();
      const visit = this.#visit();
      let ref = await this.#d.vault.bindingRef(player);
      // A kiosk takes back only its current visit's binding, asked of the relay by visit.
      if (visit !== null && ref) {
        await this.#d.vault.clearBindingRef(player);
        ref = null;
      }
      const wire = ref ? await this.#d.relay.getBinding(ref).catch(() => null) : await this.#d.relay.currentBinding(visit);
      if (!wire) {
        if (ref) await this.#d.vault.clearBindingRef(player);
        this.#set(null, -1, NO_BINDING);
      } else {
        if (wire.bindingId !== ref) await this.#d.vault.setBindingRef(player, wire.bindingId);
        this.apply(wire);
      }
    } catch (error) {
      this.#fail(error);
    }
    return this.#status;
  }

  /** Starts linking `wallet`: a QR at once. An already usable binding is returned as it is. */
  async start(wallet: WalletId): Promise<BindingStatus> {
    if (this.#bindingId && canPayWith(this.#status.state)) return this.#status;
    if (this.#bindingId && this.#status.state === 'QR_SHOWN' && this.#status.wallet === wallet && this.#codeLive()) return this.#status;
    const player = await this.#vaultOp(() => this.#d.playerKey());
    // Proves the keychain usable before a QR is minted we could not remember; once the keychain
    // has answered this is no keychain call (Vault.assertUsable), so no keychain operation sits
    // before the QR's first paint (issue 17, #5).
    await this.#vaultOp(() => this.#d.vault.assertUsable());
    if (this.#bindingId && this.#status.state === 'QR_SHOWN') await this.cancel();
    const wire = await this.#relayOp(() => this.#d.relay.createBinding(wallet, this.#visit()));
    // The QR goes to the windows at once; its reference is written while the player scans.
    // A crash before the write is no worse than one between the relay's answer and the write
    // (always possible): the binding stays the player's current one at the relay, which
    // restore() (no reference) and the status stream (on connect) bring back, and an unused
    // code dies at its expiry. A write that fails withdraws the QR: no code we cannot remember.
    this.apply(wire);
    try {
      await this.#d.vault.setBindingRef(player, wire.bindingId);
    } catch (error) {
      if (this.#bindingId === wire.bindingId) await this.cancel();
      this.#fail(error);
      throw error;
    }
    this.#d.rememberWallet?.(wallet);
    return this.#status;
  }

  /**
   * The player tapped "Get a new code". A binding still showing a code asks the relay for a
   * fresh one (the relay answers a code it has just renewed as it is); an ended binding (the
   * code died unscanned, also when the relay ended it meanwhile) takes no new code, so a new
   * binding for the same wallet follows.
   */
  async refreshCode(): Promise<BindingStatus> {
    const id = this.#bindingId;
    const wallet = this.#status.wallet;
    if (id && this.#status.state === 'QR_SHOWN') {
      try {
        this.apply(await this.#relayOp(() => this.#d.relay.refreshCode(id)));
        return this.#status;
      } catch (error) {
        if (toRelayError(error).code !== 'ILLEGAL_TRANSITION') throw error;
        // The relay ended the binding meanwhile (the cap): take its status, then a new binding.
        await this.sync();
      }
    }
    if (!wallet || !BINDING_TERMINAL.includes(this.#status.state)) throw new DomainError('ILLEGAL_TRANSITION', 'no code to renew');
    return this.start(wallet);
  }

  /** The code on screen has not run out yet. */
  #codeLive(): boolean {
    const qr = this.#status.qr;
    return qr !== null && Date.parse(qr.expiresAt) > this.#d.clock.now();
  }

  /** Withdraws a shown QR (the player closed the overlay, or a kiosk reset). */
  async cancel(): Promise<BindingStatus> {
    const id = this.#bindingId;
    if (!id || this.#status.state !== 'QR_SHOWN') return this.#status;
    this.#transition('QR_WITHDRAWN');
    try {
      await this.#d.relay.withdraw(id);
    } catch (error) {
      // The code dies by itself at its expiry; the local state is already final.
      this.#d.log.warn('withdraw failed', { code: toRelayError(error).code });
    }
    await this.#forgetRef();
    this.#forget(id);
    return this.#status;
  }

  /** Unlinks: the relay revokes the token at Antom; the reference leaves the vault. */
  async unbind(): Promise<BindingStatus> {
    const id = this.#bindingId;
    if (!id) return this.#status;
    if (this.#status.state === 'QR_SHOWN') return this.cancel();
    const wire = await this.#relayOp(() => this.#d.relay.revoke(id));
    this.apply({ ...wire, state: 'REVOKED' });
    await this.#forgetRef();
    this.#forget(id);
    return this.#status;
  }

  /**
   * Kiosk reset: forgets the binding, its QR and the vault reference at once, without the
   * network (the visit outbox tells the relay). Late statuses about it are ignored.
   */
  async forgetVisit(): Promise<void> {
    const id = this.#bindingId;
    if (id) this.#forget(id);
    else this.#set(null, -1, NO_BINDING);
    await this.#forgetRef();
  }

  /** Re-reads the binding from the relay (after the stream reconnects). */
  async sync(): Promise<void> {
    const id = this.#bindingId;
    if (!id) return;
    try {
      this.apply(await this.#d.relay.getBinding(id));
    } catch (error) {
      this.#d.log.debug('binding sync failed', { code: toRelayError(error).code });
    }
  }

  /**
   * Applies a status from the relay (an answer, a `binding` event, a long-poll): stale
   * versions and other bindings are ignored; the move is checked against the shared machine
   * and logged when the client missed a step, but the relay is the authority on state.
   */
  apply(wire: RelayBinding): void {
    if (this.#forgotten.has(wire.bindingId)) return;
    const visit = this.#visit();
    if (visit !== null && wire.visitId !== visit) return;
    if (this.#bindingId && wire.bindingId !== this.#bindingId && this.#status.state !== 'NONE') {
      const fresh = wire.state === 'QR_SHOWN' && this.#status.state !== 'QR_SHOWN';
      if (!fresh) return;
    }
    const same = wire.bindingId === this.#bindingId;
    if (same && wire.version < this.#version) return;
    const from = same ? this.#status.state : 'NONE';
    const event = bindingEventFor(from, wire.state);
    const step = event ? bindingTransition(from, event) : null;
    if (!step?.ok || step.state !== wire.state) {
      this.#d.log.debug('binding state taken from relay', { from, to: wire.state });
    }
    this.#set(wire.bindingId, wire.version, toBindingStatus(wire));
  }

  #visit(): string | null {
    return this.#d.visit?.() ?? null;
  }

  /** Stops timers. */
  dispose(): void {
    if (this.#expiryTimer !== null) this.#d.clock.clearTimeout(this.#expiryTimer);
    this.#expiryTimer = null;
  }

  #transition(event: 'QR_EXPIRED' | 'QR_WITHDRAWN'): void {
    const step = bindingTransition(this.#status.state, event);
    if (!step.ok) throw new DomainError('ILLEGAL_TRANSITION', `${this.#status.state} + ${event}`);
    this.#set(this.#bindingId, this.#version, { ...this.#status, state: step.state, qr: null });
  }

  /** Drops a withdrawn or unlinked binding for good (its FAILED/REVOKED event may still be on the way). */
  #forget(id: string): void {
    this.#forgotten.add(id);
    if (this.#forgotten.size > 64) this.#forgotten.delete(this.#forgotten.values().next().value as string);
    this.#set(null, -1, NO_BINDING);
  }

  #set(id: string | null, version: number, status: BindingStatus): void {
    const previous = this.#status;
    this.#bindingId = id;
    this.#version = version;
    this.#status = status;
    this.#armExpiry();
    if (JSON.stringify(previous) !== JSON.stringify(status)) for (const l of this.#listeners) l(status, previous);
  }

  /**
   * Display only, never a relay call (the code's life is the relay's): a code that ran out with
   * no renewal left, or whose renewal is RENEWAL_GRACE_MS overdue, is shown dead until the
   * relay's own status arrives (a newer version replaces it, a late fresh code too).
   */
  #armExpiry(): void {
    this.dispose();
    const qr = this.#status.qr;
    if (this.#status.state !== 'QR_SHOWN' || !qr) return;
    const renewing = qr.refreshesLeft > 0;
    const delay = Math.max(0, Date.parse(qr.expiresAt) + (renewing ? RENEWAL_GRACE_MS : 0) - this.#d.clock.now());
    this.#expiryTimer = this.#d.clock.setTimeout(() => {
      this.#expiryTimer = null;
      if (this.#status.qr !== qr) return;
      this.#set(this.#bindingId, this.#version, { ...this.#status, state: 'EXPIRED', qr: null, error: renewing ? 'QR_EXPIRED' : 'QR_REFRESH_LIMIT' });
    }, delay);
  }

  async #forgetRef(): Promise<void> {
    try {
      await this.#d.vault.clearBindingRef(await this.#d.playerKey());
    } catch (error) {
      this.#d.log.warn('could not clear the binding reference', { code: toRelayError(error).code });
    }
  }

  async #vaultOp<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (error) {
      this.#fail(error);
      throw error;
    }
  }

  async #relayOp<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (error) {
      throw toRelayError(error);
    }
  }

  #fail(error: unknown): void {
    const code = toRelayError(error).code;
    this.#set(this.#bindingId, this.#version, { ...this.#status, error: code });
  }
}
