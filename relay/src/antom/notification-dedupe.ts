import type { NotificationOutcome } from '../bindings/authorization-notifications.ts';
import type { NotificationDedupeTable } from '../store/schema.ts';
import { lookupHash } from '../store/secret-box.ts';
import type { NotificationRepo } from './notification-repo.ts';

/** The three notification kinds, as routed (authorization, payment, refund). */
export type NotificationKind = 'authorization' | 'payment' | 'refund';

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * A notification's own identity, or undefined when it has none the relay acts on. Antom sends no
 * notification id, so the identity is what the notification says
 * about which object and which outcome: notifyAuthorization by (type, authState / accessToken)
 * as Antom asks merchants to; notifyPayment by (notifyType, paymentRequestId, result status and code);
 * notifyRefund by (notifyType, refundRequestId, refundStatus, result code). A different outcome
 * for the same object is a different notification and is handled (its state machine decides).
 * The key is a SHA-256 of the identity, so the access token of a TOKEN_CANCELED is never stored.
 */
export function notificationKey(kind: NotificationKind, body: Record<string, unknown>): string | undefined {
  const result = (typeof body['result'] === 'object' && body['result'] !== null ? body['result'] : {}) as Record<string, unknown>;
  let parts: string[];
  if (kind === 'authorization') {
    const type = text(body['authorizationNotifyType']);
    const subject = type === 'TOKEN_CANCELED' ? text(body['accessToken']) : text(body['authState']);
    if (!type || !subject) return undefined;
    parts = [type, subject];
  } else if (kind === 'payment') {
    const id = text(body['paymentRequestId']);
    if (!id) return undefined;
    parts = [text(body['notifyType']), id, text(result['resultStatus']), text(result['resultCode'])];
  } else {
    const id = text(body['refundRequestId']);
    if (!id) return undefined;
    parts = [text(body['notifyType']), id, text(body['refundStatus']), text(result['resultCode'])];
  }
  return lookupHash(JSON.stringify([kind, ...parts]));
}

/** Outcomes after which the notification is done: a repeat of it needs no handling. */
const FINAL: ReadonlySet<NotificationOutcome> = new Set(['applied', 'duplicate', 'late-revoked']);

/**
 * Deduplication of Antom notifications in the store, so it holds across relay processes and
 * restarts. A key is recorded only after the handler committed (`keyRow`, written with the
 * delivery's audit row by NotificationRepo.record), never before: a crash in between leaves no
 * key and Antom's retry is handled again, which the handlers allow (every one is idempotent).
 * 'unknown' and 'ignored' are not recorded, so a notification that overtook its own purchase or
 * refund row is handled when Antom re-sends it.
 */
export class NotificationDedupe {
  constructor(private readonly records: NotificationRepo) {}

  /** True when a notification with this key was already handled. */
  async seen(kind: NotificationKind, key: string): Promise<boolean> {
    return this.records.hasKey(kind, key);
  }

  /** The row that records a handled notification, or undefined when its outcome is not final (not recorded). */
  keyRow(kind: NotificationKind, key: string, outcome: NotificationOutcome, now: number): NotificationDedupeTable | undefined {
    return FINAL.has(outcome) ? { kind, notification_key: key, outcome, received_at: now } : undefined;
  }

  /** Records a handled notification on its own (no audit row); a concurrent copy's row wins silently. */
  async remember(kind: NotificationKind, key: string, outcome: NotificationOutcome, now: number): Promise<void> {
    const row = this.keyRow(kind, key, outcome, now);
    if (row) await this.records.record(row, undefined);
  }
}
