import {
  type BindingEvent,
  type BindingState,
  bindingTransition,
  DomainError,
  type ErrorCode,
  errorMessage,
  type WalletId,
  walletInfo,
} from '@scan-to-bind/shared/domain';
import type { RelayBinding } from '@scan-to-bind/shared/relay-api';
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../clock.ts';
import type { EventHub } from '../events.ts';
import type { Store } from '../store/db.ts';
import { Prepared } from '../store/prepared.ts';
import type { AuthStatesTable, BindingsTable, Database } from '../store/schema.ts';

/** A binding row. */
export type BindingRow = BindingsTable;

/** How long a claimed binding is held for one Antom call (the worker's pass, a player's code tap). */
export const BINDING_LEASE_MS = 30_000;

/** How often a pay waiting for a refresh reads the binding again (a change made by another relay process wakes no one here). */
const REFRESH_POLL_MS = 250;

/** The binding a purchase names, if the caller owns it (hot path: store/prepared.ts). */
const ownedBinding = new Prepared<{ id: string; owner: string }, BindingRow>((db, arg) =>
  db.selectFrom('bindings').selectAll().where('id', '=', arg('id')).where('owner', '=', arg('owner')),
);

/** Builds the device-facing status of a binding row (its shape: shared/relay-api RelayBinding). */
export function bindingStatus(row: BindingRow): RelayBinding {
  const wallet = row.wallet as WalletId;
  const status: RelayBinding = {
    bindingId: row.id,
    state: row.state as BindingState,
    wallet,
    version: row.version,
    refreshesLeft: row.refreshes_left,
  };
  if (row.masked_account) status.maskedAccount = row.masked_account;
  if (row.visit_id) status.visitId = row.visit_id;
  if (row.state === 'QR_SHOWN' && row.code_value && row.code_expires_at !== null) {
    status.codeValue = row.code_value;
    status.codeExpiresAt = new Date(row.code_expires_at).toISOString();
  }
  if (row.error_code) {
    const code = row.error_code as ErrorCode;
    status.error = { code, message: errorMessage(code, 'en', { wallet: walletInfo(wallet).displayName }) };
  }
  return status;
}

/** Extra writes that must commit together with a binding transition. */
export type TransitionExtra = (trx: Transaction<Database>, next: BindingRow, before: BindingRow) => Promise<void>;

/**
 * Binding state changes, always through `bindingTransition`: the row is locked (PostgreSQL
 * `FOR UPDATE`; SQLite transactions are serialised), the event applied, the patch and any
 * extra writes committed in one transaction, and the new status published.
 */
export class BindingRepo {
  constructor(
    readonly store: Store,
    readonly clock: Clock,
    readonly hub: EventHub,
  ) {}

  /** Reads one binding (any owner). */
  get(id: string): Promise<BindingRow | undefined> {
    return this.store.db.selectFrom('bindings').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Reads one binding of an owner; BINDING_NOT_FOUND otherwise (other owners' ids look unknown). */
  async getOwned(owner: string, id: string): Promise<BindingRow> {
    const row = await ownedBinding.first(this.store.db, this.store.dialect, { id, owner });
    if (!row) throw new DomainError('BINDING_NOT_FOUND');
    return row;
  }

  /**
   * Applies an event. Returns the new row, or undefined when the machine refuses the event
   * (the caller decides whether that is an error). A repeat without a patch changes nothing.
   */
  async apply(
    id: string,
    event: BindingEvent,
    patch: Partial<BindingRow> | ((row: BindingRow) => Partial<BindingRow>) = {},
    extra?: TransitionExtra,
  ): Promise<{ row: BindingRow; changed: boolean } | undefined> {
    const result = await this.store.db.transaction().execute((trx) => this.applyIn(trx, id, event, patch, extra));
    if (result?.changed) this.publish(result.row);
    return result;
  }

  /**
   * `apply` inside the caller's transaction, for a caller that must read and decide under the
   * same lock (authorization-notifications.ts). Publishes nothing: the caller publishes the row
   * once its transaction committed.
   */
  async applyIn(
    trx: Transaction<Database>,
    id: string,
    event: BindingEvent,
    patch: Partial<BindingRow> | ((row: BindingRow) => Partial<BindingRow>) = {},
    extra?: TransitionExtra,
  ): Promise<{ row: BindingRow; changed: boolean } | undefined> {
    const row = await this.lock(trx, id);
    if (!row) return undefined;
    const t = bindingTransition(row.state as BindingState, event);
    if (!t.ok) return undefined;
    const p = typeof patch === 'function' ? patch(row) : patch;
    if (!t.changed && Object.keys(p).length === 0) return { row, changed: false };
    const now = this.clock.now();
    const next: BindingRow = { ...row, ...p, state: t.state, version: row.version + 1, updated_at: now, touched_at: Date.now() };
    const { id: _id, ...values } = next;
    await trx.updateTable('bindings').set(values).where('id', '=', id).execute();
    if (extra) await extra(trx, next, row);
    return { row: next, changed: true };
  }

  /** Reads a binding inside a transaction, locked (PostgreSQL `FOR UPDATE`; SQLite transactions are serialised). */
  lock(trx: Transaction<Database>, id: string): Promise<BindingRow | undefined> {
    let q = trx.selectFrom('bindings').selectAll().where('id', '=', id);
    if (this.store.dialect === 'postgres') q = q.forUpdate();
    return q.executeTakeFirst();
  }

  /** Pushes a binding's status to its owner's streams. */
  publish(row: BindingRow): void {
    this.hub.publish({ kind: 'binding', owner: row.owner, id: row.id, version: row.version, status: { ...bindingStatus(row) } });
  }

  /**
   * Takes the worker lease of a row; true when this process now owns the next Antom call for it.
   * With `seen`, only the row as the caller read it (same version) and, with `due`, only while
   * its next action is still due: a pass that read the row before another process handled and
   * released it must not handle it again from its stale copy (one consult per code expiry).
   */
  async claim(id: string, leaseMs: number, seen?: { version: number; due?: boolean }): Promise<boolean> {
    const now = this.clock.now();
    let q = this.store.db
      .updateTable('bindings')
      .set({ lease_until: now + leaseMs })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]));
    if (seen) q = q.where('version', '=', seen.version);
    if (seen?.due) q = q.where('next_action_at', '<=', now);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /**
   * Writes a new binding and its first authState in one commit (one disk flush less before the
   * QR is shown).
   */
  async create(row: BindingRow, authState: string): Promise<void> {
    await this.store.db.transaction().execute(async (trx) => {
      await trx.insertInto('bindings').values(row).execute();
      await this.addAuthState(authState, row, trx);
    });
  }

  /** Runs `fn` in one transaction (a caller that decides under the binding's locks: `lock`, `lockAuthState`, `applyIn`). */
  transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.store.db.transaction().execute(fn);
  }

  /** An owner's bindings in one of `states`. */
  inStates(owner: string, states: readonly string[]): Promise<BindingRow[]> {
    return this.store.db
      .selectFrom('bindings')
      .selectAll()
      .where('owner', '=', owner)
      .where('state', 'in', [...states])
      .execute();
  }

  /** An owner's bindings in one of `states` that belong to no visit or to another visit than `visitId`. */
  outsideVisit(owner: string, states: readonly string[], visitId: string): Promise<BindingRow[]> {
    return this.store.db
      .selectFrom('bindings')
      .selectAll()
      .where('owner', '=', owner)
      .where('state', 'in', [...states])
      .where((eb) => eb.or([eb('visit_id', 'is', null), eb('visit_id', '!=', visitId)]))
      .execute();
  }

  /** The other bindings of `binding`'s owner and wallet in one of `states`. */
  siblings(binding: Pick<BindingRow, 'id' | 'owner' | 'wallet'>, states: readonly string[]): Promise<BindingRow[]> {
    return this.store.db
      .selectFrom('bindings')
      .selectAll()
      .where('owner', '=', binding.owner)
      .where('wallet', '=', binding.wallet)
      .where('id', '!=', binding.id)
      .where('state', 'in', [...states])
      .execute();
  }

  /**
   * An owner's 20 newest bindings that left NONE; with `visit` given (a kiosk), only those of
   * that visit (`null`: those of no visit).
   */
  newest(owner: string, visit?: string | null): Promise<BindingRow[]> {
    let q = this.store.db.selectFrom('bindings').selectAll().where('owner', '=', owner).where('state', '!=', 'NONE');
    if (visit !== undefined) q = visit === null ? q.where('visit_id', 'is', null) : q.where('visit_id', '=', visit);
    return q.orderBy('created_at', 'desc').limit(20).execute();
  }

  /** The newest bindings matching an operator's filter (admin API); `term` matches the id, device, player or masked account. */
  search(filter: { state?: string | undefined; owner?: string | undefined; term?: string | undefined }, limit: number): Promise<BindingRow[]> {
    let q = this.store.db.selectFrom('bindings').selectAll();
    if (filter.state) q = q.where('state', '=', filter.state);
    if (filter.owner) q = q.where('owner', '=', filter.owner);
    const term = filter.term;
    if (term) q = q.where((eb) => eb.or([eb('id', '=', term), eb('device_id', '=', term), eb('player_id', '=', term), eb('masked_account', '=', term)]));
    return q.orderBy('created_at', 'desc').limit(limit).execute();
  }

  /** Bindings in one of `states` whose next action is due and whose lease (if any) ran out, earliest first. */
  due(now: number, states: readonly string[], limit: number): Promise<BindingRow[]> {
    return this.store.db
      .selectFrom('bindings')
      .selectAll()
      .where('state', 'in', [...states])
      .where('next_action_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .orderBy('next_action_at')
      .limit(limit)
      .execute();
  }

  /** The bindings holding the access token with this lookup hash. */
  byTokenHash(hash: string): Promise<Pick<BindingRow, 'id' | 'state'>[]> {
    return this.store.db.selectFrom('bindings').select(['id', 'state']).where('access_token_hash', '=', hash).execute();
  }

  /** Bindings changed (by any relay process) after `since` (wall-clock ms): the cross-process change watcher. */
  touchedSince(since: number): Promise<BindingRow[]> {
    return this.store.db.selectFrom('bindings').selectAll().where('touched_at', '>', since).execute();
  }

  /**
   * After INVALID_ACCESS_TOKEN the token the pay was sent with (its lookup hash,
   * purchases.access_token_hash) is known dead: if the binding still holds that token, the worker
   * refreshes or expires it now. A binding that holds a newer token (refreshed since) is left
   * alone: marking it would only force a needless second refresh. A purchase written before the
   * hash was recorded (null) marks the binding's token as before.
   */
  async markTokenDead(id: string, tokenHash: string | null): Promise<void> {
    const now = this.clock.now();
    let q = this.store.db.updateTable('bindings').set({ access_token_expires_at: now, next_action_at: now }).where('id', '=', id).where('state', '=', 'ACTIVE');
    if (tokenHash !== null) q = q.where('access_token_hash', '=', tokenHash);
    await q.execute();
  }

  /**
   * Waits while a binding is REFRESHING (a pay that must not read its token yet, payments/
   * token-use.ts): woken by the binding's change in this process, and reading the state again
   * at most every `REFRESH_POLL_MS` for a change another relay process made. True once the
   * binding is in another state (or gone), false when `untilMs` (wall clock) passed first.
   */
  async waitWhileRefreshing(id: string, untilMs: number): Promise<boolean> {
    for (;;) {
      const row = await this.store.db.selectFrom('bindings').select('state').where('id', '=', id).executeTakeFirst();
      if (row?.state !== 'REFRESHING') return true;
      const left = untilMs - Date.now();
      if (left <= 0) return false;
      await this.hub.waitFor('binding', id, Math.min(left, REFRESH_POLL_MS));
    }
  }

  /** Records an authState sent in a consult as the binding's current one (on `db`: a transaction or the store). */
  async addAuthState(authState: string, row: Pick<BindingRow, 'id' | 'wallet'>, db: Kysely<Database> = this.store.db): Promise<void> {
    await db
      .insertInto('auth_states')
      .values({ auth_state: authState, binding_id: row.id, wallet: row.wallet, status: 'current', created_at: this.clock.now() })
      .execute();
  }

  /** The binding an authState was issued for (it never changes, so it may be read without a lock). */
  async authStateBinding(authState: string): Promise<string | undefined> {
    const row = await this.store.db.selectFrom('auth_states').select('binding_id').where('auth_state', '=', authState).executeTakeFirst();
    return row?.binding_id;
  }

  /** Reads an authState inside a transaction, locked (PostgreSQL `FOR UPDATE`; SQLite transactions are serialised). */
  lockAuthState(trx: Transaction<Database>, authState: string): Promise<AuthStatesTable | undefined> {
    let q = trx.selectFrom('auth_states').selectAll().where('auth_state', '=', authState);
    if (this.store.dialect === 'postgres') q = q.forUpdate();
    return q.executeTakeFirst();
  }

  /** Sets one authState's status; with `onlyIfCurrent`, only while it is still the current one. */
  async setAuthState(authState: string, status: AuthStatesTable['status'], onlyIfCurrent = false, db: Kysely<Database> = this.store.db): Promise<void> {
    let q = db.updateTable('auth_states').set({ status }).where('auth_state', '=', authState);
    if (onlyIfCurrent) q = q.where('status', '=', 'current');
    await q.execute();
  }

  /** Ends a binding's current authState(s) with `status` on `db`, except `keep` (the one just issued). */
  async endCurrentAuthStates(db: Kysely<Database>, bindingId: string, status: AuthStatesTable['status'], keep?: string): Promise<void> {
    let q = db.updateTable('auth_states').set({ status }).where('binding_id', '=', bindingId).where('status', '=', 'current');
    if (keep !== undefined) q = q.where('auth_state', '!=', keep);
    await q.execute();
  }

  /** Releases the lease and sets when the worker should look again. */
  async release(id: string, nextActionAt: number | null): Promise<void> {
    await this.store.db.updateTable('bindings').set({ lease_until: null, next_action_at: nextActionAt }).where('id', '=', id).execute();
  }
}

/** The mask shown to players: `••••` and the last four characters of the wallet login id. */
export function maskAccount(loginId: string | undefined): string {
  if (!loginId) return '••••';
  const tail = loginId.replace(/[^A-Za-z0-9]/gu, '').slice(-4);
  return `••••${tail}`;
}
