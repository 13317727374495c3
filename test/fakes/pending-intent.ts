import { randomUUID } from 'node:crypto';
import type { PendingIntent } from '../../main/services/purchase-intent.ts';

/** A submitted HK$12.00 purchase of one gems-100 with fresh ids (the relay's schemas accept them), as tests of the purchase modules start one. */
export function submittedIntent(overrides: Partial<PendingIntent> = {}): PendingIntent {
  return {
    purchaseIntentId: randomUUID(),
    bindingId: randomUUID(),
    sku: 'gems-100',
    quantity: 1,
    total: { currency: 'HKD', minor: 1200 },
    wallet: 'ALIPAY_HK',
    createdAt: 0,
    acknowledged: false,
    state: 'SUBMITTED',
    ...overrides,
  };
}
