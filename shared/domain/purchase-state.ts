import type { ErrorCode } from './errors.ts';
import { machine } from './state-machine.ts';

/**
 * The life of one purchase intent. An unknown result (U, a timeout, a dropped connection)
 * moves to PROCESSING and leaves it only on an answer from Antom — pay, inquiry, notification
 * or a confirmed cancel — never on a guess or a local timer.
 */
export const PURCHASE_STATES = ['CREATED', 'SUBMITTED', 'PROCESSING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type PurchaseState = (typeof PURCHASE_STATES)[number];

/** What can happen to a purchase. */
export const PURCHASE_EVENTS = [
  /** the intent was written and the pay call is about to be sent */
  'SUBMIT',
  /** refused before anything was sent (limits, spending caps, binding not usable) */
  'REJECT',
  /** Antom said S: by pay, inquiryPayment (SUCCESS) or notifyPayment */
  'PAY_SUCCEEDED',
  /** Antom said F: by pay, inquiryPayment (FAIL) or notifyPayment */
  'PAY_FAILED',
  /** Antom said U, PROCESSING or nothing at all (timeout) */
  'PAY_UNKNOWN',
  /** cancel answered S, or inquiryPayment said CANCELLED */
  'CANCEL_CONFIRMED',
] as const;
export type PurchaseEvent = (typeof PURCHASE_EVENTS)[number];

/** Purchases in these states are settled. */
export const PURCHASE_FINAL: readonly PurchaseState[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

/** The purchase state machine as a pure function. */
export const purchaseTransition = machine<PurchaseState, PurchaseEvent>(
  {
    CREATED: { SUBMIT: 'SUBMITTED', REJECT: 'FAILED' },
    SUBMITTED: {
      PAY_SUCCEEDED: 'SUCCEEDED',
      PAY_FAILED: 'FAILED',
      PAY_UNKNOWN: 'PROCESSING',
      CANCEL_CONFIRMED: 'CANCELLED',
    },
    PROCESSING: { PAY_SUCCEEDED: 'SUCCEEDED', PAY_FAILED: 'FAILED', CANCEL_CONFIRMED: 'CANCELLED' },
    SUCCEEDED: {},
    FAILED: {},
    CANCELLED: {},
  },
  {
    PROCESSING: ['PAY_UNKNOWN'],
    // Duplicate notifications and stale inquiry answers change nothing. A contradicting
    // outcome (F after S, S after F or a cancel) is rejected so the relay raises an alarm.
    SUCCEEDED: ['PAY_SUCCEEDED', 'PAY_UNKNOWN'],
    FAILED: ['PAY_FAILED', 'PAY_UNKNOWN', 'REJECT'],
    CANCELLED: ['CANCEL_CONFIRMED', 'PAY_FAILED', 'PAY_UNKNOWN'],
  },
);

/** True when the purchase has its final result. */
export function isPurchaseFinal(state: PurchaseState): boolean {
  return PURCHASE_FINAL.includes(state);
}

/**
 * The error a purchase in `state` shows: none once it succeeded; a failed or cancelled one keeps
 * its own code (a refusal's reason) or says plainly that it failed or was cancelled (nothing
 * charged). Main settles purchases with it and the renderer reads pushed statuses with it.
 */
export function purchaseError(state: PurchaseState, error: ErrorCode | null): ErrorCode | null {
  if (state === 'SUCCEEDED') return null;
  if (state === 'FAILED') return error ?? 'PAYMENT_FAILED';
  if (state === 'CANCELLED') return error ?? 'PAYMENT_CANCELLED';
  return error;
}
