import { DomainError } from '@scan-to-bind/shared/domain';
import type { Store } from '../store/db.ts';

/* The kiosk visits' rows (the rule: kiosk-visits.ts): each device's current visit and every visit ever reported. */

/** The device's current visit id, or null when it never reported one. */
export async function currentVisit(store: Store, deviceId: string): Promise<string | null> {
  const row = await store.db.selectFrom('devices').select('visit_id').where('id', '=', deviceId).executeTakeFirst();
  return row?.visit_id ?? null;
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
