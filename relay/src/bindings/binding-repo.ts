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
import type { Transaction } from 'kysely';
import type { Clock } from '../clock.ts';
import type { EventHub } from '../events.ts';
import type { Store } from '../store/db.ts';
import { Prepared } from '../store/prepared.ts';
import type { BindingsTable, Database } from '../store/schema.ts';

/** A binding row. */
export type BindingRow = BindingsTable;

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

  /** Takes the worker lease of a row; true when this process now owns the next Antom call for it. */
  async claim(id: string, leaseMs: number): Promise<boolean> {
    const now = this.clock.now();
    const res = await this.store.db
      .updateTable('bindings')
      .set({ lease_until: now + leaseMs })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
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
