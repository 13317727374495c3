import { machine } from './state-machine.ts';

/**
 * The life of one wallet binding. Antom tells nobody that a code was scanned (only an
 * authorization that succeeded is notified by notifyAuthorization), so there is no "scanned" state: the
 * QR stays shown until an authCode arrives, the code expires or the player withdraws it.
 */
export const BINDING_STATES = ['NONE', 'QR_SHOWN', 'AUTHORIZED', 'ACTIVE', 'REFRESHING', 'REVOKED', 'EXPIRED', 'FAILED'] as const;
export type BindingState = (typeof BINDING_STATES)[number];

/** What can happen to a binding. */
export const BINDING_EVENTS = [
  /** consult answered with a code value (first code or a fresh one replacing it) */
  'QR_ISSUED',
  /** notifyAuthorization AUTHCODE_CREATED for this binding's authState */
  'AUTH_CODE_RECEIVED',
  /** the code reached its end without an authorization */
  'QR_EXPIRED',
  /** the player or a kiosk reset withdrew the code */
  'QR_WITHDRAWN',
  /** applyToken answered with an access token */
  'TOKEN_ISSUED',
  /** applyToken refused the authCode (used, expired, unknown) */
  'TOKEN_REQUEST_FAILED',
  /** the access token nears its expiry and a refresh begins */
  'REFRESH_STARTED',
  /** applyToken REFRESH_TOKEN answered with a new access token */
  'REFRESH_SUCCEEDED',
  /** the refresh could not be tried now (network); the old token is still valid */
  'REFRESH_DEFERRED',
  /** the refresh token is expired or invalid: the player must scan again */
  'REFRESH_REJECTED',
  /** the access token passed its expiry with no refresh possible */
  'TOKEN_EXPIRED',
  /** revoked by us (revoke S) or by the wallet (TOKEN_CANCELED) */
  'REVOKED',
] as const;
export type BindingEvent = (typeof BINDING_EVENTS)[number];

/** Bindings in these states never change again; a new attempt starts a new binding at NONE. */
export const BINDING_TERMINAL: readonly BindingState[] = ['REVOKED', 'EXPIRED', 'FAILED'];

/** The binding state machine as a pure function. */
export const bindingTransition = machine<BindingState, BindingEvent>(
  {
    NONE: { QR_ISSUED: 'QR_SHOWN' },
    QR_SHOWN: {
      QR_ISSUED: 'QR_SHOWN',
      AUTH_CODE_RECEIVED: 'AUTHORIZED',
      QR_EXPIRED: 'EXPIRED',
      QR_WITHDRAWN: 'FAILED',
    },
    AUTHORIZED: { TOKEN_ISSUED: 'ACTIVE', TOKEN_REQUEST_FAILED: 'FAILED', REVOKED: 'REVOKED' },
    ACTIVE: { REFRESH_STARTED: 'REFRESHING', TOKEN_EXPIRED: 'EXPIRED', REVOKED: 'REVOKED' },
    REFRESHING: {
      REFRESH_SUCCEEDED: 'ACTIVE',
      REFRESH_DEFERRED: 'ACTIVE',
      REFRESH_REJECTED: 'EXPIRED',
      TOKEN_EXPIRED: 'EXPIRED',
      REVOKED: 'REVOKED',
    },
    REVOKED: {},
    EXPIRED: {},
    FAILED: {},
  },
  {
    // Duplicate deliveries of the event that ended the binding are harmless.
    REVOKED: ['REVOKED'],
    EXPIRED: ['QR_EXPIRED', 'TOKEN_EXPIRED', 'REFRESH_REJECTED'],
    FAILED: ['QR_WITHDRAWN', 'TOKEN_REQUEST_FAILED'],
  },
);

/**
 * True when a payment may be asked for with a binding in this state (the client offers Buy).
 * A REFRESHING binding may: the relay holds the pay until the refresh ends (canSendToken).
 */
export function canPayWith(state: BindingState): boolean {
  return state === 'ACTIVE' || state === 'REFRESHING';
}

/**
 * True when a pay may read the binding's access token and send it now. Not while REFRESHING: a
 * refresh rotates both tokens and the old access token stops working (Antom applyToken
 * REFRESH_TOKEN), so a pay sent with it would be refused INVALID_ACCESS_TOKEN for nothing; the
 * relay makes such a pay wait for the refresh's end (payments/purchase-service.ts).
 */
export function canSendToken(state: BindingState): boolean {
  return state === 'ACTIVE';
}
