import { afterAll, beforeAll } from 'vitest';
import type { PurchaseRow } from '../../src/payments/purchase-repo.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { createTestDatabase, type TestDatabase } from './env.ts';

/** A SUBMITTED purchase row with every column set; the amount is above 2^32 on purpose. */
export function purchaseRow(intentId: string, now: number): PurchaseRow {
  return {
    intent_id: intentId,
    owner: 'device:d1',
    device_id: 'd1',
    player_id: null,
    binding_id: 'b1',
    wallet: 'DANA',
    account_ref: 'acc',
    sku: 'vault',
    quantity: 99,
    request_hash: 'h',
    currency: 'IDR',
    amount_minor: 89_100_000_000, // above 2^32: bigint columns must round-trip as numbers
    state: 'SUBMITTED',
    version: 1,
    payment_request_id: `pay_${intentId}`,
    payment_id: null,
    result_code: null,
    error_code: null,
    created_at: now,
    updated_at: now,
    submitted_at: now,
    expires_at: now + 60_000,
    paid_at: null,
    finished_at: null,
    next_check_at: now,
    lease_until: null,
    inquiries: 0,
    cancel_attempts: 0,
    unresolved_reported_at: null,
    touched_at: now,
    access_token_hash: null,
  };
}

/**
 * A fresh store on `engine` for the enclosing describe block (opened before its tests, closed
 * and dropped after). Read `.store` inside tests.
 */
export function useStore(engine: 'sqlite' | 'postgres'): { readonly store: Store } {
  let db: TestDatabase | undefined;
  let store: Store | undefined;
  beforeAll(async () => {
    db = await createTestDatabase(engine);
    store = await openStore({ databaseUrl: db.databaseUrl, dataDir: db.dataDir });
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });
  return {
    get store(): Store {
      if (!store) throw new Error('useStore: the store is opened in beforeAll');
      return store;
    },
  };
}
