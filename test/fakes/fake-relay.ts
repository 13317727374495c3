import { randomUUID } from 'node:crypto';
import type { BindingState, PurchaseState, WalletId } from '@scan-to-bind/shared/domain';
import { RelayError } from '../../main/services/relay/errors.ts';
import { type PurchaseRequest, RELAY_ROUTES, type RelayBinding, type RelayPurchase } from '@scan-to-bind/shared/relay-api';
import { TransportError } from '../../main/services/ports.ts';

/** An in-memory stand-in for the relay's client API (unit tests of rules only); its answers pass the shared/relay-api schemas. */
export class FakeRelay {
  readonly bindings = new Map<string, RelayBinding>();
  readonly purchases = new Map<string, RelayPurchase & { body: string }>();
  readonly calls: string[] = [];
  now: () => number = () => Date.now();
  /** Next createPurchase: 'ok' settles with `purchaseOutcome`; 'drop' stores then fails; 'down' fails before storing. */
  purchaseMode: 'ok' | 'drop' | 'down' = 'ok';
  purchaseOutcome: PurchaseState = 'SUCCEEDED';
  refusal: RelayError | null = null;
  catalogueItems = [
    { sku: 'gems-100', title: '100 Gems', price: { currency: 'HKD' as const, minor: 1200 } },
    { sku: 'gems-100', title: '100 Gems', price: { currency: 'IDR' as const, minor: 1_500_000 } },
  ];

  #binding(id: string): RelayBinding {
    const b = this.bindings.get(id);
    if (!b) throw new RelayError('BINDING_NOT_FOUND', 404);
    return b;
  }
  #update(id: string, patch: Partial<RelayBinding>): RelayBinding {
    const b = RELAY_ROUTES.binding.response.schema.parse({ ...this.#binding(id), ...patch, version: this.#binding(id).version + 1 });
    this.bindings.set(id, b);
    return b;
  }
  /** Simulates the phone: the player authorised in the wallet app. */
  authorise(id: string, masked = '852-****-8812'): RelayBinding {
    return this.#update(id, { state: 'ACTIVE' as BindingState, codeValue: undefined, codeExpiresAt: undefined, maskedAccount: masked });
  }

  async createBinding(wallet: WalletId, visitId?: string | null): Promise<RelayBinding> {
    this.calls.push(visitId ? `createBinding ${wallet} ${visitId}` : `createBinding ${wallet}`);
    const bindingId = randomUUID();
    const b: RelayBinding = {
      bindingId,
      state: 'QR_SHOWN',
      wallet,
      codeValue: `https://wallet.example/qr/${bindingId}`,
      codeExpiresAt: new Date(this.now() + 60_000).toISOString(),
      refreshesLeft: 2,
      version: 1,
      ...(visitId ? { visitId } : {}),
    };
    this.bindings.set(bindingId, b);
    return b;
  }
  /** Like the relay: a kiosk asking for its visit sees only that visit's bindings. */
  async currentBinding(visitId?: string | null) {
    this.calls.push(visitId ? `currentBinding ${visitId}` : 'currentBinding');
    return [...this.bindings.values()].find((b) => (b.state === 'ACTIVE' || b.state === 'QR_SHOWN') && (!visitId || b.visitId === visitId)) ?? null;
  }
  async getBinding(id: string) {
    this.calls.push(`getBinding ${id}`);
    return this.#binding(id);
  }
  /** The player's tap, as the relay answers it: a fresh code for a binding showing one, spending no renewal. */
  async refreshCode(id: string) {
    this.calls.push(`refreshCode ${id}`);
    const b = this.#binding(id);
    if (b.state !== 'QR_SHOWN') throw new RelayError('ILLEGAL_TRANSITION', 409);
    return this.#update(id, { codeValue: `${b.codeValue}-t`, codeExpiresAt: new Date(this.now() + 60_000).toISOString() });
  }
  /**
   * Simulates the relay's worker at a code's expiry (not a client call, so not recorded): a
   * renewed code while renewals are left, else the binding ends EXPIRED (QR_REFRESH_LIMIT).
   */
  expireCode(id: string): RelayBinding {
    const b = this.#binding(id);
    if (b.refreshesLeft > 0) {
      return this.#update(id, {
        codeValue: `${b.codeValue}-r`,
        codeExpiresAt: new Date(this.now() + 60_000).toISOString(),
        refreshesLeft: b.refreshesLeft - 1,
      });
    }
    return this.#update(id, {
      state: 'EXPIRED' as BindingState,
      codeValue: undefined,
      codeExpiresAt: undefined,
      error: { code: 'QR_REFRESH_LIMIT', message: 'The code was not scanned.' },
    });
  }
  async withdraw(id: string) {
    this.calls.push(`withdraw ${id}`);
    return this.#update(id, { state: 'FAILED', codeValue: undefined, codeExpiresAt: undefined });
  }
  async revoke(id: string) {
    this.calls.push(`revoke ${id}`);
    return this.#update(id, { state: 'REVOKED' });
  }
  async catalogue(currency: 'HKD' | 'IDR') {
    this.calls.push(`catalogue ${currency}`);
    return this.catalogueItems.filter((i) => i.price.currency === currency);
  }
  async createPurchase(body: PurchaseRequest): Promise<RelayPurchase> {
    this.calls.push(`createPurchase ${body.purchaseIntentId}`);
    if (this.refusal) throw this.refusal;
    if (this.purchaseMode === 'down') throw new TransportError('refused');
    const raw = JSON.stringify(body);
    const existing = this.purchases.get(body.purchaseIntentId);
    if (existing && existing.body !== raw) throw new RelayError('IDEMPOTENCY_CONFLICT', 409);
    const p = existing ?? {
      ...RELAY_ROUTES.createPurchase.response.schema.parse({
        purchaseIntentId: body.purchaseIntentId,
        state: this.purchaseOutcome,
        version: 1,
        bindingId: body.bindingId,
        sku: body.sku,
        quantity: body.quantity,
        total: { currency: 'HKD', minor: 1200 * body.quantity },
        ...(this.purchaseOutcome === 'FAILED' ? { error: { code: 'INSUFFICIENT_BALANCE', message: 'Not enough balance' } } : {}),
      }),
      body: raw,
    };
    this.purchases.set(body.purchaseIntentId, p);
    if (this.purchaseMode === 'drop') throw new TransportError('timeout');
    const { body: _b, ...wire } = p;
    return wire;
  }
  async getPurchase(id: string): Promise<RelayPurchase | null> {
    this.calls.push(`getPurchase ${id}`);
    const p = this.purchases.get(id);
    if (!p) return null;
    const { body: _b, ...wire } = p;
    return wire;
  }
  async pendingPurchases(): Promise<RelayPurchase[]> {
    this.calls.push('pendingPurchases');
    if (this.purchaseMode === 'down') throw new TransportError('refused');
    return [...this.purchases.values()].filter((p) => p.state === 'SUBMITTED' || p.state === 'PROCESSING').map(({ body: _b, ...wire }) => wire);
  }
  /** Counts calls by prefix. */
  count(prefix: string): number {
    return this.calls.filter((c) => c.startsWith(prefix)).length;
  }
}
