import { DomainError } from '@scan-to-bind/shared/domain';
import type { Store } from '../store/db.ts';
import { Prepared } from '../store/prepared.ts';
import type { DevicesTable, EnrollmentCodesTable } from '../store/schema.ts';

/** A device row. */
export type DeviceRow = DevicesTable;

/** The hot statements of every authenticated request (store/prepared.ts). */
const deviceById = new Prepared<{ id: string }, DevicesTable>((db, arg) => db.selectFrom('devices').selectAll().where('id', '=', arg('id')));
const insertNonce = new Prepared<{ device_id: string; nonce: string; seen_at: number }, never>((db, arg) =>
  db.insertInto('nonces').values({ device_id: arg('device_id'), nonce: arg('nonce'), seen_at: arg('seen_at') }),
);

/** Devices, their enrolment codes and the nonces of their requests. */
export class DeviceRepo {
  constructor(readonly store: Store) {}

  /** Stores a new enrolment code (its hash only). */
  async addEnrollmentCode(row: EnrollmentCodesTable): Promise<void> {
    await this.store.db.insertInto('enrollment_codes').values(row).execute();
  }

  /**
   * Redeems an enrolment code for device `deviceId` and creates the device, in one transaction:
   * `device` builds its row from the code's label and kind. DEVICE_UNAUTHORIZED when the code
   * is unknown, used or expired.
   */
  enroll(codeHash: string, now: number, deviceId: string, device: (code: { label: string; kind: DevicesTable['kind'] }) => DeviceRow): Promise<DeviceRow> {
    return this.store.db.transaction().execute(async (trx) => {
      const claimed = await trx
        .updateTable('enrollment_codes')
        .set({ used_at: now, device_id: deviceId })
        .where('code_hash', '=', codeHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .returning(['label', 'kind'])
        .executeTakeFirst();
      if (!claimed) throw new DomainError('DEVICE_UNAUTHORIZED', 'unknown, used or expired enrolment code');
      const row = device(claimed);
      await trx.insertInto('devices').values(row).execute();
      return row;
    });
  }

  /** One device, or undefined. */
  get(id: string): Promise<DeviceRow | undefined> {
    return deviceById.first(this.store.db, this.store.dialect, { id });
  }

  /**
   * Records a request's nonce; its primary key refuses a replay (a unique violation). The replay
   * guard is not money state: its commit need not wait for the disk (Store.relaxed).
   */
  async recordNonce(deviceId: string, nonce: string, now: number): Promise<void> {
    await this.store.relaxed((db) => insertNonce.execute(db, this.store.dialect, { device_id: deviceId, nonce, seen_at: now }));
  }

  /** Forgets nonces seen before `before`. */
  async pruneNonces(before: number): Promise<void> {
    await this.store.relaxed((db) => db.deleteFrom('nonces').where('seen_at', '<', before).execute());
  }

  /** Which of `ids` are disabled (one query). */
  async disabledAmong(ids: readonly string[]): Promise<string[]> {
    const rows = await this.store.db
      .selectFrom('devices')
      .select('id')
      .where('id', 'in', [...ids])
      .where('revoked_at', 'is not', null)
      .execute();
    return rows.map((r) => r.id);
  }

  /** The newest devices (admin API). */
  list(limit: number): Promise<DeviceRow[]> {
    return this.store.db.selectFrom('devices').selectAll().orderBy('created_at', 'desc').limit(limit).execute();
  }

  /** Disables a device (once: the first time stays recorded); returns it, or undefined when unknown. */
  async disable(id: string, now: number): Promise<DeviceRow | undefined> {
    await this.store.db.updateTable('devices').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).execute();
    return this.get(id);
  }
}
