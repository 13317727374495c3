import type { Kysely, Migration, MigrationProvider } from 'kysely';
import { refundsFulfilmentDeclarations } from './migrations-0002.ts';
import { spendingIndexes } from './migrations-0003.ts';
import { notificationDedupe } from './migrations-0004.ts';
import { kioskVisits } from './migrations-0005.ts';
import { dropSpendLocks } from './migrations-0006.ts';
import { payBeginFunction } from './migrations-0007.ts';
import { payBeginManyFunction } from './migrations-0008.ts';
import { workerBeats } from './migrations-0009.ts';
import { tokenUseExclusion } from './migrations-0010.ts';
import { withoutRowid } from './migrations-0011.ts';

/* Migrations take Kysely<unknown>: they must not depend on today's schema types. */

const initial: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('devices')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('label', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('secret_enc', 'text', (c) => c.notNull())
      .addColumn('key_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('revoked_at', 'bigint')
      .execute();
    await db.schema
      .createTable('enrollment_codes')
      .addColumn('code_hash', 'text', (c) => c.primaryKey())
      .addColumn('label', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .addColumn('device_id', 'text')
      .execute();
    await db.schema
      .createTable('nonces')
      .addColumn('device_id', 'text', (c) => c.notNull())
      .addColumn('nonce', 'text', (c) => c.notNull())
      .addColumn('seen_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('nonces_pk', ['device_id', 'nonce'])
      .execute();
    await db.schema.createIndex('nonces_seen_at').on('nonces').column('seen_at').execute();
    await db.schema
      .createTable('bindings')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('device_id', 'text', (c) => c.notNull())
      .addColumn('player_id', 'text')
      .addColumn('wallet', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('error_code', 'text')
      .addColumn('auth_state', 'text')
      .addColumn('code_value', 'text')
      .addColumn('code_expires_at', 'bigint')
      .addColumn('refreshes_left', 'integer', (c) => c.notNull())
      .addColumn('key_id', 'text')
      .addColumn('auth_code_enc', 'text')
      .addColumn('auth_code_at', 'bigint')
      .addColumn('access_token_enc', 'text')
      .addColumn('access_token_hash', 'text')
      .addColumn('access_token_expires_at', 'bigint')
      .addColumn('refresh_token_enc', 'text')
      .addColumn('refresh_token_expires_at', 'bigint')
      .addColumn('masked_account', 'text')
      .addColumn('account_ref', 'text')
      .addColumn('next_action_at', 'bigint')
      .addColumn('lease_until', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('activated_at', 'bigint')
      .addColumn('touched_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('bindings_owner').on('bindings').columns(['owner', 'created_at']).execute();
    await db.schema.createIndex('bindings_due').on('bindings').columns(['next_action_at']).execute();
    await db.schema.createIndex('bindings_token').on('bindings').column('access_token_hash').execute();
    await db.schema.createIndex('bindings_touched').on('bindings').column('touched_at').execute();
    await db.schema
      .createTable('auth_states')
      .addColumn('auth_state', 'text', (c) => c.primaryKey())
      .addColumn('binding_id', 'text', (c) => c.notNull())
      .addColumn('wallet', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('token_revocations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('binding_id', 'text')
      .addColumn('auth_state', 'text', (c) => c.unique())
      .addColumn('wallet', 'text', (c) => c.notNull())
      .addColumn('key_id', 'text', (c) => c.notNull())
      .addColumn('auth_code_enc', 'text')
      .addColumn('access_token_enc', 'text')
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
      .addColumn('lease_until', 'bigint')
      .addColumn('last_code', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('token_revocations_due').on('token_revocations').columns(['state', 'next_attempt_at']).execute();
    await db.schema
      .createTable('purchases')
      .addColumn('intent_id', 'text', (c) => c.primaryKey())
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('device_id', 'text', (c) => c.notNull())
      .addColumn('player_id', 'text')
      .addColumn('binding_id', 'text', (c) => c.notNull())
      .addColumn('wallet', 'text', (c) => c.notNull())
      .addColumn('account_ref', 'text')
      .addColumn('sku', 'text', (c) => c.notNull())
      .addColumn('quantity', 'integer', (c) => c.notNull())
      .addColumn('request_hash', 'text', (c) => c.notNull())
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('amount_minor', 'bigint', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('payment_request_id', 'text', (c) => c.notNull().unique())
      .addColumn('payment_id', 'text')
      .addColumn('result_code', 'text')
      .addColumn('error_code', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('submitted_at', 'bigint')
      .addColumn('expires_at', 'bigint')
      .addColumn('paid_at', 'bigint')
      .addColumn('finished_at', 'bigint')
      .addColumn('next_check_at', 'bigint')
      .addColumn('lease_until', 'bigint')
      .addColumn('inquiries', 'integer', (c) => c.notNull())
      .addColumn('cancel_attempts', 'integer', (c) => c.notNull())
      .addColumn('unresolved_reported_at', 'bigint')
      .addColumn('touched_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('purchases_owner').on('purchases').columns(['owner', 'created_at']).execute();
    await db.schema.createIndex('purchases_account').on('purchases').columns(['account_ref', 'created_at']).execute();
    await db.schema.createIndex('purchases_due').on('purchases').columns(['next_check_at']).execute();
    await db.schema.createIndex('purchases_touched').on('purchases').column('touched_at').execute();
    await db.schema
      .createTable('spend_locks')
      .addColumn('lock_key', 'text', (c) => c.primaryKey())
      .execute();
    await db.schema
      .createTable('notifications')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('ref', 'text')
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};

/** Every migration, in order; names sort lexically. */
export const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_refunds_fulfilment_declarations': refundsFulfilmentDeclarations,
  '0003_spending_indexes': spendingIndexes,
  '0004_notification_dedupe': notificationDedupe,
  '0005_kiosk_visits': kioskVisits,
  '0006_drop_spend_locks': dropSpendLocks,
  '0007_pay_begin_function': payBeginFunction,
  '0008_pay_begin_many_function': payBeginManyFunction,
  '0009_worker_beats': workerBeats,
  '0010_token_use_exclusion': tokenUseExclusion,
  '0011_without_rowid': withoutRowid,
};

/** A provider serving the migrations above (no files on disk to find at run time). */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
