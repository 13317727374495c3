import { DomainError } from '@scan-to-bind/shared/domain';
import type { Caller } from '../devices/device-service.ts';
import type { Store } from '../store/db.ts';
import type { BindingRow } from './binding-repo.ts';

/*
 * Kiosk visits (issue 14). The kiosk client picks a random visit id for each visitor and
 * reports it (POST /v1/kiosk/visits, or with its first POST /v1/bindings of the visit). The
 * relay keeps the device's current visit; a kiosk binding belongs to the visit it was started
 * in, and a kiosk purchase is paid only when it names the binding's visit and that visit is
 * still the device's current one. So a reset that rotated the visit id stops the previous
 * visitor's wallet even when the client's own wipe failed, and an ended visit never returns.
 */

/** The device's current visit id, or null when it never reported one. */
export async function currentVisit(store: Store, deviceId: string): Promise<string | null> {
  const row = await store.db.selectFrom('devices').select('visit_id').where('id', '=', deviceId).executeTakeFirst();
  return row?.visit_id ?? null;
}

/** Refuses a visit id from a launcher: only kiosks have visits. */
export function assertVisitAllowed(caller: Caller, visitId: string | undefined): void {
  if (visitId !== undefined && caller.kind !== 'kiosk') throw new DomainError('INVALID_INPUT', 'only a kiosk has visits');
}

/**
 * Makes `visitId` the device's current visit. Idempotent for the current visit ('current');
 * 'started' when it replaced the previous one. An id that was ever used before (ended, or
 * another device's) is refused with KIOSK_VISIT_ENDED: visits only move forward.
 */
export async function recordVisit(store: Store, deviceId: string, visitId: string, now: number): Promise<'current' | 'started'> {
  return store.db.transaction().execute(async (trx) => {
    let q = trx.selectFrom('devices').select('visit_id').where('id', '=', deviceId);
    if (store.dialect === 'postgres') q = q.forUpdate();
    const device = await q.executeTakeFirst();
    if (device?.visit_id === visitId) return 'current';
    const known = await trx.selectFrom('kiosk_visits').select('visit_id').where('visit_id', '=', visitId).executeTakeFirst();
    if (known) throw new DomainError('KIOSK_VISIT_ENDED', 'that visit id was used before');
    if (device?.visit_id) {
      await trx.updateTable('kiosk_visits').set({ ended_at: now }).where('visit_id', '=', device.visit_id).where('ended_at', 'is', null).execute();
    }
    await trx.insertInto('kiosk_visits').values({ visit_id: visitId, device_id: deviceId, started_at: now, ended_at: null }).execute();
    await trx.updateTable('devices').set({ visit_id: visitId }).where('id', '=', deviceId).execute();
    return 'started';
  });
}

/**
 * The visit rule of a kiosk purchase, checked before anything is written or sent to Antom:
 * the purchase names the binding's visit (both absent only for a binding from before visits),
 * and that visit is the device's current one.
 */
export async function assertPurchaseVisit(store: Store, caller: Caller, binding: Pick<BindingRow, 'visit_id'>, visitId: string | undefined): Promise<void> {
  assertVisitAllowed(caller, visitId);
  if (caller.kind !== 'kiosk') return;
  if ((visitId ?? null) !== binding.visit_id) throw new DomainError('KIOSK_VISIT_ENDED', 'the binding belongs to another visit');
  if (binding.visit_id !== null && (await currentVisit(store, caller.deviceId)) !== binding.visit_id) {
    throw new DomainError('KIOSK_VISIT_ENDED', 'the visit is over');
  }
}
