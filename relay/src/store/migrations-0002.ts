import type { Kysely, Migration } from 'kysely';

/** Refunds, the fulfilment outbox and customs declarations (issue 5). */
export const refundsFulfilmentDeclarations: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('refunds')
      .addColumn('refund_request_id', 'text', (c) => c.primaryKey())
      .addColumn('intent_id', 'text', (c) => c.notNull())
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('payment_id', 'text', (c) => c.notNull())
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('amount_minor', 'bigint', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('refund_id', 'text')
      .addColumn('result_code', 'text')
      .addColumn('error_code', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('refunded_at', 'bigint')
      .addColumn('finished_at', 'bigint')
      .addColumn('next_check_at', 'bigint')
      .addColumn('lease_until', 'bigint')
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('refunds_intent').on('refunds').columns(['intent_id', 'created_at']).execute();
    await db.schema.createIndex('refunds_due').on('refunds').column('next_check_at').execute();
    await db.schema
      .createTable('fulfilment_outbox')
      .addColumn('event_id', 'text', (c) => c.primaryKey())
      .addColumn('intent_id', 'text', (c) => c.notNull().unique())
      .addColumn('target', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('next_attempt_at', 'bigint')
      .addColumn('lease_until', 'bigint')
      .addColumn('last_status', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('delivered_at', 'bigint')
      .execute();
    await db.schema.createIndex('fulfilment_due').on('fulfilment_outbox').columns(['state', 'next_attempt_at']).execute();
    await db.schema
      .createTable('declarations')
      .addColumn('declaration_request_id', 'text', (c) => c.primaryKey())
      .addColumn('intent_id', 'text', (c) => c.notNull())
      .addColumn('payment_id', 'text', (c) => c.notNull())
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('amount_minor', 'bigint', (c) => c.notNull())
      .addColumn('customs_code', 'text', (c) => c.notNull())
      .addColumn('region', 'text', (c) => c.notNull())
      .addColumn('merchant_customs_code', 'text', (c) => c.notNull())
      .addColumn('merchant_customs_name', 'text', (c) => c.notNull())
      .addColumn('split_order', 'integer', (c) => c.notNull())
      .addColumn('sub_order_id', 'text')
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('result_code', 'text')
      .addColumn('customs_payment_id', 'text')
      .addColumn('customs_order_id', 'text')
      .addColumn('status_detail', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('declarations_intent').on('declarations').column('intent_id').execute();
  },
};
