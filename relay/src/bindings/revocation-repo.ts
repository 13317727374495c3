import type { Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import type { Store } from '../store/db.ts';
import type { Database, TokenRevocationsTable } from '../store/schema.ts';

/** A row of the revocation outbox. */
export type RevocationRow = TokenRevocationsTable;

/** A new outbox row: the secrets already sealed under `keyId` (revocation-outbox.ts seals them). */
export interface NewRevocation {
  id: string;
  reason: string;
  bindingId: string | null;
  authState: string | null;
  wallet: string;
  keyId: string;
  authCodeEnc: string | null;
  accessTokenEnc: string | null;
}

/**
 * The revocation outbox's table (`token_revocations`). The only writer of its rows besides the
 * key rotation: every revocation, whichever path ends a binding, is written by `insert`.
 */
export class RevocationRepo {
  constructor(
    readonly store: Store,
    readonly clock: Clock,
  ) {}

  /**
   * Writes one pending revocation on `db` (a transaction, so that it commits with the change
   * that ended the binding; the store's own handle otherwise). With an access token it waits
   * to be revoked; with only an authCode it is first exchanged for one.
   */
  async insert(r: NewRevocation, db: Kysely<Database> = this.store.db): Promise<void> {
    const now = this.clock.now();
    await db
      .insertInto('token_revocations')
      .values({
        id: r.id,
        reason: r.reason,
        binding_id: r.bindingId,
        auth_state: r.authState,
        wallet: r.wallet,
        key_id: r.keyId,
        auth_code_enc: r.authCodeEnc,
        access_token_enc: r.accessTokenEnc,
        state: r.accessTokenEnc ? 'PENDING_REVOKE' : 'PENDING_TOKEN',
        attempts: 0,
        next_attempt_at: now,
        lease_until: null,
        last_code: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
  }

  /** Pending rows whose next attempt is due and whose lease (if any) has run out, oldest attempt first. */
  due(now: number, limit: number): Promise<RevocationRow[]> {
    return this.store.db
      .selectFrom('token_revocations')
      .selectAll()
      .where('state', 'in', ['PENDING_TOKEN', 'PENDING_REVOKE'])
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .orderBy('next_attempt_at')
      .limit(limit)
      .execute();
  }

  /** Takes a row's lease until `now + leaseMs`; true when this process now owns its next Antom call. */
  async claim(id: string, now: number, leaseMs: number): Promise<boolean> {
    const res = await this.store.db
      .updateTable('token_revocations')
      .set({ lease_until: now + leaseMs })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** Stores the access token a late authCode was exchanged for; the row now waits to be revoked. */
  async tokenObtained(id: string, keyId: string, accessTokenEnc: string): Promise<void> {
    await this.store.db
      .updateTable('token_revocations')
      .set({ state: 'PENDING_REVOKE', auth_code_enc: null, access_token_enc: accessTokenEnc, key_id: keyId })
      .where('id', '=', id)
      .execute();
  }

  /** Ends one attempt: writes `patch`, counts the attempt and releases the lease. */
  async attempted(
    row: Pick<RevocationRow, 'id' | 'attempts'>,
    patch: Partial<Pick<RevocationRow, 'state' | 'auth_code_enc' | 'access_token_enc' | 'last_code' | 'next_attempt_at'>>,
  ): Promise<void> {
    await this.store.db
      .updateTable('token_revocations')
      .set({ ...patch, lease_until: null, attempts: row.attempts + 1, updated_at: this.clock.now() })
      .where('id', '=', row.id)
      .execute();
  }
}
