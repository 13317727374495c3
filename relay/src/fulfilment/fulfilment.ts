import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { PurchaseRow } from '../payments/purchase-repo.ts';
import type { Database, FulfilmentOutboxTable } from '../store/schema.ts';
import type { FulfilmentRepo } from './fulfilment-repo.ts';
import { FULFILMENT_SIGNATURE_HEADER, signFulfilment } from './signature.ts';

/** Fulfilment settings (config `fulfilment`). */
export interface FulfilmentSettings {
  webhookUrl?: string | undefined;
  secret?: string | undefined;
  /** `local`: kiosks grant on their own SUCCEEDED event (no webhook); `webhook`: like launchers. */
  kiosks: 'webhook' | 'local';
  baseDelayMs: number;
  maxDelayMs: number;
  timeoutMs: number;
  leaseMs: number;
}

/** The webhook body (the dedupe key is `purchaseIntentId`). */
export interface FulfilmentEvent {
  eventId: string;
  purchaseIntentId: string;
  playerId?: string;
  deviceId?: string;
  sku: string;
  quantity: number;
  total: { currency: string; minor: number };
  paymentId: string | null;
  paidAt: string;
}

/** What the admin API shows of a delivery. */
export interface DeliveryStatus {
  eventId: string;
  purchaseIntentId: string;
  target: string;
  state: string;
  attempts: number;
  nextAttemptAt?: string;
  lastStatus?: number;
  lastError?: string;
  createdAt: string;
  deliveredAt?: string;
}

/** Admin view of an outbox row. */
export function deliveryStatus(row: FulfilmentOutboxTable): DeliveryStatus {
  return {
    eventId: row.event_id,
    purchaseIntentId: row.intent_id,
    target: row.target,
    state: row.state,
    attempts: row.attempts,
    ...(row.next_attempt_at !== null && row.state === 'PENDING' ? { nextAttemptAt: new Date(row.next_attempt_at).toISOString() } : {}),
    ...(row.last_status !== null ? { lastStatus: row.last_status } : {}),
    ...(row.last_error !== null ? { lastError: row.last_error } : {}),
    createdAt: new Date(row.created_at).toISOString(),
    ...(row.delivered_at !== null ? { deliveredAt: new Date(row.delivered_at).toISOString() } : {}),
  };
}

/**
 * The fulfilment outbox: a row is written in the same transaction that makes a purchase
 * SUCCEEDED (`enqueue`), and the worker delivers it with a signed POST until the game server
 * answers 2xx, backing off exponentially (at least once; the receiver dedupes by
 * purchaseIntentId). Rows are leased, so several relays deliver each event once per attempt.
 */
export class Fulfilment {
  constructor(
    private readonly repo: FulfilmentRepo,
    private readonly clock: Clock,
    private readonly settings: FulfilmentSettings,
    private readonly logger: Logger,
  ) {}

  /** Whether anything is written for successful purchases. */
  get enabled(): boolean {
    return Boolean(this.settings.webhookUrl && this.settings.secret);
  }

  /** Writes the event inside the transaction that records the success. */
  async enqueue(trx: Transaction<Database>, p: PurchaseRow): Promise<void> {
    if (!this.enabled) return;
    const now = this.clock.now();
    const local = p.player_id === null && this.settings.kiosks === 'local';
    const event: FulfilmentEvent = {
      eventId: randomUUID(),
      purchaseIntentId: p.intent_id,
      ...(p.player_id !== null ? { playerId: p.player_id } : { deviceId: p.device_id }),
      sku: p.sku,
      quantity: p.quantity,
      total: { currency: p.currency, minor: p.amount_minor },
      paymentId: p.payment_id,
      paidAt: new Date(p.paid_at ?? now).toISOString(),
    };
    await this.repo.insert(trx, {
      event_id: event.eventId,
      intent_id: p.intent_id,
      target: local ? 'local' : 'webhook',
      payload: JSON.stringify(event),
      state: local ? 'LOCAL' : 'PENDING',
      attempts: 0,
      next_attempt_at: local ? null : now,
      lease_until: null,
      last_status: null,
      last_error: null,
      created_at: now,
      updated_at: now,
      delivered_at: null,
    });
  }

  /** Undelivered webhook events (the `relay_fulfilment_backlog` metric). */
  async backlog(): Promise<number> {
    return this.repo.backlog();
  }

  /** Worker step: delivers due events. */
  async tick(): Promise<void> {
    if (!this.enabled) return;
    const now = this.clock.now();
    const due = await this.repo.due(now, 20);
    await Promise.all(due.map((row) => this.#deliver(row)));
  }

  async #deliver(row: FulfilmentOutboxTable): Promise<void> {
    const now = this.clock.now();
    if (!(await this.repo.claim(row.event_id, now, this.settings.leaseMs))) return;
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(this.settings.webhookUrl as string, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', [FULFILMENT_SIGNATURE_HEADER]: signFulfilment(this.settings.secret as string, Date.now(), row.payload) },
        body: row.payload,
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
    } catch (err) {
      error = (err as Error).message.slice(0, 200);
    }
    const after = this.clock.now();
    const attempts = row.attempts + 1;
    if (status !== null && status >= 200 && status < 300) {
      await this.repo.attempted(row.event_id, {
        state: 'DELIVERED',
        attempts,
        last_status: status,
        last_error: null,
        delivered_at: after,
        updated_at: after,
        next_attempt_at: null,
      });
      this.logger.info({ intentId: row.intent_id, attempts }, 'fulfilment delivered');
      return;
    }
    const delay = Math.min(this.settings.baseDelayMs * 2 ** Math.min(attempts - 1, 20), this.settings.maxDelayMs);
    await this.repo.attempted(row.event_id, {
      attempts,
      last_status: status,
      last_error: error ?? `HTTP ${status}`,
      updated_at: after,
      next_attempt_at: after + delay,
    });
    this.logger.warn({ intentId: row.intent_id, attempts, status, delayMs: delay }, 'fulfilment delivery failed; will retry');
  }
}
