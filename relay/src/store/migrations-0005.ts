import type { Kysely, Migration } from 'kysely';

/**
 * Kiosk visits (issue 14): each kiosk binding records the visit it was created in, each kiosk
 * device its current visit, and every visit a device ever had is kept so an ended visit id is
 * never taken again. A kiosk purchase must name the binding's visit, and that visit must be
 * the device's current one (bindings/kiosk-visits.ts).
 */
export const kioskVisits: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('bindings').addColumn('visit_id', 'text').execute();
    await db.schema.alterTable('devices').addColumn('visit_id', 'text').execute();
    await db.schema
      .createTable('kiosk_visits')
      .addColumn('visit_id', 'text', (c) => c.primaryKey())
      .addColumn('device_id', 'text', (c) => c.notNull())
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('ended_at', 'bigint')
      .execute();
  },
};
