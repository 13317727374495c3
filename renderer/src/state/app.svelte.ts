import { type Locale, resolveLocale } from '@scan-to-bind/shared/domain';
import type { Api, InvokeOutput } from '@scan-to-bind/shared/ipc';
import { BindingFlow } from './binding.svelte.ts';
import { type Entry, parseEntry, type View } from './entry.ts';
import { i18n } from './i18n.svelte.ts';
import { PurchaseFlow } from './purchase.svelte.ts';

export type AppInfo = InvokeOutput<'appInfo'>;
export type KioskStatus = InvokeOutput<'kioskStillHere'>;

/**
 * The whole renderer's state: what main said about the app, the current view and the flows.
 * `connect()` loads everything once and subscribes to main's pushes; it returns the function
 * that unsubscribes.
 */
export class AppState {
  info = $state.raw<AppInfo | null>(null);
  /** The screen shown (inside a kiosk session when `isKiosk`). */
  view = $state<Exclude<View, 'kiosk'>>('bind');
  /** The kiosk profile: attract screen, "Still there?" prompt, reset between customers. */
  isKiosk = $state(false);
  kiosk = $state.raw<KioskStatus | null>(null);
  /** A kiosk customer pressed Start on the attract screen. */
  kioskStarted = $state(false);
  /** What the host asked to show; main changes it with a new hash route (see `navigate`). */
  entry = $state.raw<Entry>({ view: null, sku: null, quantity: 1 });
  readonly binding: BindingFlow;
  readonly purchase: PurchaseFlow;
  readonly #api: Api;

  constructor(api: Api, search: string, hash = '') {
    this.#api = api;
    this.entry = parseEntry(search, hash);
    this.binding = new BindingFlow(api);
    this.purchase = new PurchaseFlow(api);
  }

  /** The attract screen is up: before Start, and again after main resets the kiosk. */
  get attract(): boolean {
    return this.isKiosk && !this.kioskStarted;
  }

  async connect(): Promise<() => void> {
    const api = this.#api;
    const subs = [
      api.onBindingChanged((s) => this.binding.apply(s)),
      api.onPurchaseChanged((s) => this.purchase.update(s)),
      api.onSettingsChanged((s) => this.#setLocale(s.locale)),
      api.onKioskChanged((k) => this.#onKiosk(k)),
    ];
    const [info, settings, wallets, binding, pending] = await Promise.all([
      api.appInfo(),
      api.getSettings(),
      api.listWallets(),
      api.bindingStatus(),
      api.pendingPurchases(),
    ]);
    this.#setLocale(settings.ok ? settings.value.locale : resolveLocale(navigator.language));
    if (wallets.ok) this.binding.wallets = wallets.value;
    if (binding.ok && binding.value.state !== 'NONE') this.binding.apply(binding.value);
    if (pending.ok) this.purchase.pending = pending.value;
    const i = info.ok ? info.value : { mode: 'window' as const, version: '', region: null, currency: null };
    this.isKiosk = this.entry.view === 'kiosk' || (this.entry.view === null && i.mode === 'kiosk');
    this.view = this.#firstView();
    this.info = i;
    this.#loadPurchase();
    return () => {
      for (const off of subs) off();
    };
  }

  /** The wallets the picker offers: filtered by the player's region and currency (null = all). */
  get walletChoices() {
    const { region = null, currency = null } = this.info ?? {};
    return this.binding.wallets.filter((w) => (region === null || w.country === region) && (currency === null || w.currency === currency));
  }

  #firstView(): Exclude<View, 'kiosk'> {
    const v = this.entry.view;
    if (v && v !== 'kiosk') return v;
    if (this.entry.sku) return 'purchase';
    return !this.isKiosk && this.binding.status?.state === 'ACTIVE' ? 'manage' : 'bind';
  }

  /**
   * Main opened another screen in this window (a hash route: the overlay is reused, not
   * reloaded). A payment in flight is never dropped: its dialog stays until it has a result.
   */
  navigate(entry: Entry): void {
    if (this.purchase.locked) return;
    if (entry.sku !== this.entry.sku || entry.quantity !== this.entry.quantity) this.purchase.reset();
    this.entry = entry;
    if (!this.info) return;
    this.view = this.#firstView();
    this.#loadPurchase();
  }

  go(view: Exclude<View, 'kiosk'>): void {
    this.view = view;
    this.#loadPurchase();
  }

  #loadPurchase(): void {
    const sku = this.entry.sku;
    if (this.isKiosk && !this.kioskStarted) return;
    if (this.view === 'purchase' && sku && (this.purchase.phase === 'idle' || this.purchase.phase === 'failed')) {
      void this.purchase.load(sku, this.entry.quantity);
    }
  }

  async setLocale(locale: Locale): Promise<void> {
    this.#setLocale(locale);
    await this.#api.setSettings({ locale });
  }

  #setLocale(locale: Locale): void {
    i18n.locale = locale;
    // Written only when it changes (issue 17, #5): main announces every settings change (the
    // wallet remembered when a binding starts lands beside the first QR), and Chromium restyles
    // the whole document on any write of `lang`, the same value included (~0.5 ms on the
    // overlay under load, ~20 ms on a page of 1,500 blocks).
    if (document.documentElement.lang !== locale) document.documentElement.lang = locale;
  }

  startKiosk(): void {
    this.kioskStarted = true;
    this.#loadPurchase();
  }

  stillHere(): void {
    void this.#api.kioskStillHere().then((r) => r.ok && this.#onKiosk(r.value));
  }

  endSession(): void {
    void this.#api.kioskEndSession().then((r) => r.ok && this.#onKiosk(r.value));
  }

  #onKiosk(k: KioskStatus): void {
    this.kiosk = k;
    if (k.phase === 'resetting' || k.phase === 'attract') {
      // Nothing of one customer survives into the next visit.
      this.kioskStarted = false;
      this.binding.reset();
      this.purchase.reset();
      this.view = this.#firstView();
    } else if (!this.kioskStarted) {
      this.kioskStarted = true;
      this.#loadPurchase();
    }
  }
}
