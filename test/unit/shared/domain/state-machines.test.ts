import { describe, expect, it } from 'vitest';
import {
  BINDING_EVENTS,
  BINDING_STATES,
  BINDING_TERMINAL,
  type BindingEvent,
  type BindingState,
  bindingTransition,
  canPayWith,
  canSendToken,
} from '../../../../shared/domain/binding-state.ts';
import {
  isPurchaseFinal,
  PURCHASE_EVENTS,
  PURCHASE_STATES,
  type PurchaseEvent,
  purchaseError,
  type PurchaseState,
  purchaseTransition,
} from '../../../../shared/domain/purchase-state.ts';

// The expected machines, written out independently of the implementation's tables:
// [from, event, to]. Every pair not listed here (or in the repeats) must be rejected.
const bindingMoves: [BindingState, BindingEvent, BindingState][] = [
  ['NONE', 'QR_ISSUED', 'QR_SHOWN'],
  ['QR_SHOWN', 'QR_ISSUED', 'QR_SHOWN'],
  ['QR_SHOWN', 'AUTH_CODE_RECEIVED', 'AUTHORIZED'],
  ['QR_SHOWN', 'QR_EXPIRED', 'EXPIRED'],
  ['QR_SHOWN', 'QR_WITHDRAWN', 'FAILED'],
  ['AUTHORIZED', 'TOKEN_ISSUED', 'ACTIVE'],
  ['AUTHORIZED', 'TOKEN_REQUEST_FAILED', 'FAILED'],
  ['AUTHORIZED', 'REVOKED', 'REVOKED'],
  ['ACTIVE', 'REFRESH_STARTED', 'REFRESHING'],
  ['ACTIVE', 'TOKEN_EXPIRED', 'EXPIRED'],
  ['ACTIVE', 'REVOKED', 'REVOKED'],
  ['REFRESHING', 'REFRESH_SUCCEEDED', 'ACTIVE'],
  ['REFRESHING', 'REFRESH_DEFERRED', 'ACTIVE'],
  ['REFRESHING', 'REFRESH_REJECTED', 'EXPIRED'],
  ['REFRESHING', 'TOKEN_EXPIRED', 'EXPIRED'],
  ['REFRESHING', 'REVOKED', 'REVOKED'],
];
const bindingRepeats: [BindingState, BindingEvent][] = [
  ['REVOKED', 'REVOKED'],
  ['EXPIRED', 'QR_EXPIRED'],
  ['EXPIRED', 'TOKEN_EXPIRED'],
  ['EXPIRED', 'REFRESH_REJECTED'],
  ['FAILED', 'QR_WITHDRAWN'],
  ['FAILED', 'TOKEN_REQUEST_FAILED'],
];

const purchaseMoves: [PurchaseState, PurchaseEvent, PurchaseState][] = [
  ['CREATED', 'SUBMIT', 'SUBMITTED'],
  ['CREATED', 'REJECT', 'FAILED'],
  ['SUBMITTED', 'PAY_SUCCEEDED', 'SUCCEEDED'],
  ['SUBMITTED', 'PAY_FAILED', 'FAILED'],
  ['SUBMITTED', 'PAY_UNKNOWN', 'PROCESSING'],
  ['SUBMITTED', 'CANCEL_CONFIRMED', 'CANCELLED'],
  ['PROCESSING', 'PAY_SUCCEEDED', 'SUCCEEDED'],
  ['PROCESSING', 'PAY_FAILED', 'FAILED'],
  ['PROCESSING', 'CANCEL_CONFIRMED', 'CANCELLED'],
];
const purchaseRepeats: [PurchaseState, PurchaseEvent][] = [
  ['PROCESSING', 'PAY_UNKNOWN'],
  ['SUCCEEDED', 'PAY_SUCCEEDED'],
  ['SUCCEEDED', 'PAY_UNKNOWN'],
  ['FAILED', 'PAY_FAILED'],
  ['FAILED', 'PAY_UNKNOWN'],
  ['FAILED', 'REJECT'],
  ['CANCELLED', 'CANCEL_CONFIRMED'],
  ['CANCELLED', 'PAY_FAILED'],
  ['CANCELLED', 'PAY_UNKNOWN'],
];

function allPairs<S extends string, E extends string>(states: readonly S[], evs: readonly E[]): [S, E][] {
  return states.flatMap((s) => evs.map((e) => [s, e] as [S, E]));
}

describe('binding state machine', () => {
  it.each(bindingMoves)('%s --%s--> %s', (from, event, to) => {
    expect(bindingTransition(from, event)).toEqual({ ok: true, state: to, changed: from !== to });
  });

  it.each(bindingRepeats)('%s ignores a repeated %s without change', (from, event) => {
    expect(bindingTransition(from, event)).toEqual({ ok: true, state: from, changed: false });
  });

  const legal = new Set([...bindingMoves.map(([s, e]) => `${s}|${e}`), ...bindingRepeats.map(([s, e]) => `${s}|${e}`)]);
  const illegal = allPairs(BINDING_STATES, BINDING_EVENTS).filter(([s, e]) => !legal.has(`${s}|${e}`));

  it('has illegal pairs to check', () => {
    expect(illegal.length).toBe(BINDING_STATES.length * BINDING_EVENTS.length - legal.size);
    expect(illegal.length).toBeGreaterThan(70);
  });

  it.each(illegal)('rejects %s + %s', (from, event) => {
    expect(bindingTransition(from, event)).toEqual({ ok: false, code: 'ILLEGAL_TRANSITION', from, event });
  });

  it('has no "scanned" state: nothing is learnt between the QR and the authorization', () => {
    expect(BINDING_STATES).not.toContain('SCANNED');
    expect(bindingTransition('QR_SHOWN', 'TOKEN_ISSUED').ok).toBe(false);
  });

  it('never leaves a terminal state', () => {
    for (const s of BINDING_TERMINAL) {
      for (const e of BINDING_EVENTS) {
        const t = bindingTransition(s, e);
        if (t.ok) expect(t.state).toBe(s);
      }
    }
  });

  it('rejects states and events that are not in the vocabulary', () => {
    expect(bindingTransition('SCANNED' as BindingState, 'QR_ISSUED').ok).toBe(false);
    expect(bindingTransition('NONE', 'SCANNED' as BindingEvent).ok).toBe(false);
    expect(bindingTransition('__proto__' as BindingState, 'QR_ISSUED').ok).toBe(false);
    expect(bindingTransition('NONE', '__proto__' as BindingEvent).ok).toBe(false);
    expect(purchaseTransition('CREATED', 'constructor' as PurchaseEvent).ok).toBe(false);
  });

  it('allows payments only with a usable token', () => {
    expect(BINDING_STATES.filter(canPayWith)).toEqual(['ACTIVE', 'REFRESHING']);
  });

  it('sends the access token only while no refresh is rotating it', () => {
    expect(BINDING_STATES.filter(canSendToken)).toEqual(['ACTIVE']);
  });
});

describe('purchase state machine', () => {
  it.each(purchaseMoves)('%s --%s--> %s', (from, event, to) => {
    expect(purchaseTransition(from, event)).toEqual({ ok: true, state: to, changed: from !== to });
  });

  it.each(purchaseRepeats)('%s takes a repeated %s without change', (from, event) => {
    expect(purchaseTransition(from, event)).toEqual({ ok: true, state: from, changed: false });
  });

  const legal = new Set([...purchaseMoves.map(([s, e]) => `${s}|${e}`), ...purchaseRepeats.map(([s, e]) => `${s}|${e}`)]);
  const illegal = allPairs(PURCHASE_STATES, PURCHASE_EVENTS).filter(([s, e]) => !legal.has(`${s}|${e}`));

  it('has illegal pairs to check', () => {
    expect(illegal.length).toBe(PURCHASE_STATES.length * PURCHASE_EVENTS.length - legal.size);
  });

  it.each(illegal)('rejects %s + %s', (from, event) => {
    expect(purchaseTransition(from, event)).toEqual({ ok: false, code: 'ILLEGAL_TRANSITION', from, event });
  });

  it('resolves an unknown result only by an answer from Antom, never by a guess', () => {
    // From PROCESSING the only exits are Antom's S, F or a confirmed cancel.
    const exits = PURCHASE_EVENTS.filter((e) => {
      const t = purchaseTransition('PROCESSING', e);
      return t.ok && t.changed;
    });
    expect(exits.sort()).toEqual(['CANCEL_CONFIRMED', 'PAY_FAILED', 'PAY_SUCCEEDED']);
  });

  it('treats a contradicting outcome after a success as illegal (one success per intent)', () => {
    expect(purchaseTransition('SUCCEEDED', 'PAY_FAILED').ok).toBe(false);
    expect(purchaseTransition('SUCCEEDED', 'CANCEL_CONFIRMED').ok).toBe(false);
    expect(purchaseTransition('FAILED', 'PAY_SUCCEEDED').ok).toBe(false);
  });

  it('knows the final states', () => {
    expect(PURCHASE_STATES.filter(isPurchaseFinal)).toEqual(['SUCCEEDED', 'FAILED', 'CANCELLED']);
  });

  it('names the error a settled purchase shows: its own code, else failed or cancelled; none once it succeeded', () => {
    expect(purchaseError('SUCCEEDED', 'PAYMENT_FAILED')).toBeNull();
    expect(purchaseError('FAILED', null)).toBe('PAYMENT_FAILED');
    expect(purchaseError('FAILED', 'SPENDING_CAP_DAILY')).toBe('SPENDING_CAP_DAILY');
    expect(purchaseError('CANCELLED', null)).toBe('PAYMENT_CANCELLED');
    expect(purchaseError('PROCESSING', null)).toBeNull();
  });
});
