import type { ErrorCode, WalletId } from '@scan-to-bind/shared/domain';
import type { Api, InvokeOutput } from '@scan-to-bind/shared/ipc';

/** The binding as the bridge reports it. */
export type BindingStatus = InvokeOutput<'bindingStatus'>;
/** A wallet the picker may offer. */
export type WalletOption = InvokeOutput<'listWallets'>[number];

/**
 * The binding flow of the overlay: the wallet picker, the QR with its countdown, the "Get a new
 * code" path and the linked result. The code's life is the relay's (it renews an unscanned code
 * at expiry, capped by refreshesLeft); main mirrors it, and this class shows main's pushes and
 * asks for a new code only when the player does.
 */
export class BindingFlow {
  status = $state.raw<BindingStatus | null>(null);
  wallets = $state.raw<WalletOption[]>([]);
  /** The wallet of the current attempt, so "Get a new code" knows what to ask for. */
  wallet = $state<WalletId | null>(null);
  /** An invoke that failed (the flow's own error, as opposed to status.error). */
  failure = $state<ErrorCode | null>(null);
  busy = $state(false);
  copied = $state<boolean | null>(null);
  /** The current time, advanced by `tick()` while a code is on screen. */
  now = $state.raw(Date.now());
  readonly #api: Api;

  constructor(api: Api) {
    this.#api = api;
  }

  get qr() {
    return this.status?.state === 'QR_SHOWN' ? this.status.qr : null;
  }

  /** Whole seconds until the code on screen expires (null with no code). */
  get secondsLeft(): number | null {
    const qr = this.qr;
    return qr ? Math.max(0, Math.ceil((Date.parse(qr.expiresAt) - this.now) / 1000)) : null;
  }

  /** The code ran out and no automatic refresh is left: the player must ask for a new one. */
  get needsNewCode(): boolean {
    const s = this.status;
    if (!s) return false;
    if (s.state === 'EXPIRED' || s.state === 'FAILED') return true;
    return s.state === 'QR_SHOWN' && this.secondsLeft === 0 && (s.qr?.refreshesLeft ?? 0) === 0;
  }

  /** The code on screen ran out and the relay's renewal has not arrived yet. */
  get refreshing(): boolean {
    const qr = this.qr;
    return qr !== null && qr.refreshesLeft > 0 && this.secondsLeft === 0;
  }

  /** Takes a status from an invoke answer or a push. */
  apply(status: BindingStatus): void {
    this.status = status;
    if (status.wallet) this.wallet = status.wallet;
    if (status.state !== 'QR_SHOWN') this.copied = null;
    this.now = Date.now();
  }

  async #run(call: () => Promise<{ ok: true; value: BindingStatus } | { ok: false; code: ErrorCode }>) {
    this.busy = true;
    this.failure = null;
    const r = await call();
    this.busy = false;
    if (r.ok) this.apply(r.value);
    else this.failure = r.code;
  }

  /** Starts a binding (also "Get a new code": a new attempt with the same wallet). */
  start(wallet: WalletId): Promise<void> {
    if (this.busy) return Promise.resolve();
    this.wallet = wallet;
    this.copied = null;
    return this.#run(() => this.#api.startBinding({ wallet }));
  }

  /** Withdraws the code on screen and goes back to the picker. */
  async cancel(): Promise<void> {
    await this.#run(() => this.#api.cancelBinding());
    this.status = null;
    this.failure = null;
  }

  async unbind(): Promise<void> {
    await this.#run(() => this.#api.unbind());
  }

  /** Back to the wallet picker without touching main's state. */
  pick(): void {
    this.status = null;
    this.failure = null;
  }

  async copyLink(): Promise<void> {
    const r = await this.#api.copyBindingLink();
    this.copied = r.ok && r.value;
  }

  /** "Get a new code" for a code that ran out unscanned: the player asks main (refreshBindingCode). */
  renew(): Promise<void> {
    if (this.busy) return Promise.resolve();
    this.copied = null;
    return this.#run(() => this.#api.refreshBindingCode());
  }

  /** Advances the countdown; nothing else (the relay renews the code, main pushes it). */
  tick(): void {
    this.now = Date.now();
  }

  /** Forgets everything (kiosk reset). */
  reset(): void {
    this.status = null;
    this.wallet = null;
    this.failure = null;
    this.copied = null;
  }
}
