import type { BindingEvent, BindingState } from '@scan-to-bind/shared/domain';
import type { BindingStatusSchema } from '@scan-to-bind/shared/ipc';
import type { z } from 'zod';
import type { RelayBinding } from '@scan-to-bind/shared/relay-api';

/** The binding as the renderer sees it (shared contract shape). */
export type BindingStatus = z.output<typeof BindingStatusSchema>;

/** The status of a player with no binding. */
export const NO_BINDING: BindingStatus = Object.freeze({
  state: 'NONE',
  wallet: null,
  maskedAccount: null,
  qr: null,
  error: null,
}) as BindingStatus;

/**
 * The event of the shared binding machine that moves `from` to `to`, or null when no single
 * event does (the client missed intermediate events; the relay's state is then taken as is).
 */
export function bindingEventFor(from: BindingState, to: BindingState): BindingEvent | null {
  switch (to) {
    case 'QR_SHOWN':
      return 'QR_ISSUED';
    case 'AUTHORIZED':
      return 'AUTH_CODE_RECEIVED';
    case 'ACTIVE':
      return from === 'REFRESHING' ? 'REFRESH_SUCCEEDED' : from === 'AUTHORIZED' ? 'TOKEN_ISSUED' : null;
    case 'REFRESHING':
      return 'REFRESH_STARTED';
    case 'REVOKED':
      return 'REVOKED';
    case 'EXPIRED':
      return from === 'QR_SHOWN' ? 'QR_EXPIRED' : from === 'REFRESHING' ? 'REFRESH_REJECTED' : 'TOKEN_EXPIRED';
    case 'FAILED':
      return from === 'AUTHORIZED' ? 'TOKEN_REQUEST_FAILED' : 'QR_WITHDRAWN';
    default:
      return null;
  }
}

function iso(text: string | null | undefined): string | null {
  if (!text) return null;
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

/** The renderer's view of a relay binding: the QR only while it is shown, never a token. */
export function toBindingStatus(wire: RelayBinding): BindingStatus {
  const expiresAt = iso(wire.codeExpiresAt);
  const qr = wire.state === 'QR_SHOWN' && wire.codeValue && expiresAt ? { codeValue: wire.codeValue, expiresAt, refreshesLeft: wire.refreshesLeft } : null;
  return {
    state: wire.state,
    wallet: wire.wallet,
    maskedAccount: wire.maskedAccount ? wire.maskedAccount : null,
    qr,
    error: wire.error?.code ?? null,
  };
}
