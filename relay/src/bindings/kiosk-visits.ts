import { DomainError } from '@scan-to-bind/shared/domain';
import type { Caller } from '../devices/device-service.ts';
import type { BindingRow } from './binding-repo.ts';

/*
 * Kiosk visits (issue 14). The kiosk client picks a random visit id for each visitor and
 * reports it (POST /v1/kiosk/visits, or with its first POST /v1/bindings of the visit). The
 * relay keeps the device's current visit; a kiosk binding belongs to the visit it was started
 * in, and a kiosk purchase is paid only when it names the binding's visit and that visit is
 * still the device's current one. So a reset that rotated the visit id stops the previous
 * visitor's wallet even when the client's own wipe failed, and an ended visit never returns.
 */

/** Refuses a visit id from a launcher: only kiosks have visits. */
export function assertVisitAllowed(caller: Caller, visitId: string | undefined): void {
  if (visitId !== undefined && caller.kind !== 'kiosk') throw new DomainError('INVALID_INPUT', 'only a kiosk has visits');
}

/**
 * The visit rule of a kiosk purchase, checked before anything is written or sent to Antom:
 * the purchase names the binding's visit (both absent only for a binding from before visits),
 * and that visit is the device's current one (`current`, read by the caller).
 */
export function checkPurchaseVisit(caller: Caller, binding: Pick<BindingRow, 'visit_id'>, visitId: string | undefined, current: string | null): void {
  assertVisitAllowed(caller, visitId);
  if (caller.kind !== 'kiosk') return;
  if ((visitId ?? null) !== binding.visit_id) throw new DomainError('KIOSK_VISIT_ENDED', 'the binding belongs to another visit');
  if (binding.visit_id !== null && current !== binding.visit_id) throw new DomainError('KIOSK_VISIT_ENDED', 'the visit is over');
}
