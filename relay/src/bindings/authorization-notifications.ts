import type { Logger } from 'pino';
import type { Transaction } from 'kysely';
import { isUniqueViolation } from '../store/db.ts';
import type { Database } from '../store/schema.ts';
import { sealContext } from '../store/seal-context.ts';
import { lookupHash, type SecretBox } from '../store/secret-box.ts';
import type { BindingRepo, BindingRow } from './binding-repo.ts';
import type { RevocationOutbox } from './revocation-outbox.ts';

/** The outcome recorded for a notification (audit only). */
export type NotificationOutcome = 'applied' | 'duplicate' | 'late-revoked' | 'unknown' | 'ignored';

/**
 * notifyAuthorization (Antom notifies successful authorizations only). AUTHCODE_CREATED for the binding's live code moves it to
 * AUTHORIZED and hands the authCode to the worker (applyToken within the minute). An
 * authorization for a code that was withdrawn, replaced or expired is never attached: its
 * authCode goes to the revocation outbox, where it is exchanged and revoked at once.
 * TOKEN_CANCELED revokes the binding holding that token. Every path is idempotent.
 */
export class AuthorizationNotifications {
  constructor(
    private readonly repo: BindingRepo,
    private readonly box: SecretBox,
    private readonly outbox: RevocationOutbox,
    private readonly logger: Logger,
    private readonly kick: () => void,
  ) {}

  /** Handles a verified notifyAuthorization body. */
  async handle(body: Record<string, unknown>): Promise<NotificationOutcome> {
    const type = body['authorizationNotifyType'];
    if (type === 'AUTHCODE_CREATED') {
      const authCode = body['authCode'];
      const authState = body['authState'];
      if (typeof authCode !== 'string' || typeof authState !== 'string') return 'ignored';
      return this.#authCode(authState, authCode);
    }
    if (type === 'TOKEN_CANCELED') {
      const token = body['accessToken'];
      if (typeof token !== 'string') return 'ignored';
      return this.#tokenCanceled(token);
    }
    return 'ignored';
  }

  /**
   * One AUTHCODE_CREATED. Everything that decides its fate is read inside the transaction that
   * writes it, under locks (issue 14: with the authState read before the transaction, eight
   * concurrent copies gave one 'applied' and one 'late-revoked', so a valid authorization was
   * revoked): the binding row, then its authState row (PostgreSQL `FOR UPDATE`; SQLite runs one
   * transaction at a time), the order every binding transition that touches auth_states takes.
   * A copy that finds the authState used, or the binding already holding this authorization, is
   * a duplicate and changes nothing.
   */
  async #authCode(authState: string, authCode: string): Promise<NotificationOutcome> {
    const { repo } = this;
    // An authState's binding never changes, so it may be read before the locks to know which binding to lock.
    const bindingId = await repo.authStateBinding(authState);
    if (!bindingId) {
      this.logger.warn('authorization for an unknown authState; not ours, ignored');
      return 'unknown';
    }
    const decided = await this.#decide(authState, authCode, bindingId).catch((err: unknown) => {
      // A concurrent copy committed the same revocation first (its auth_state is unique).
      if (isUniqueViolation(err)) return { outcome: 'duplicate' as const };
      throw err;
    });
    if (decided.outcome === 'applied') {
      repo.publish(decided.row);
      this.kick();
    } else if (decided.outcome === 'late-revoked') {
      this.logger.warn({ bindingId }, 'late authorization for a withdrawn or replaced code: revoking it');
      this.kick();
    }
    return decided.outcome;
  }

  /** The decision and its writes, in one transaction under the binding's and the authState's locks. */
  #decide(
    authState: string,
    authCode: string,
    bindingId: string,
  ): Promise<{ outcome: 'applied'; row: BindingRow } | { outcome: 'duplicate' | 'unknown' | 'late-revoked' }> {
    const { repo } = this;
    return repo.transaction(async (trx) => {
      const binding = await repo.lock(trx, bindingId);
      const state = await repo.lockAuthState(trx, authState);
      if (!state) return { outcome: 'unknown' as const };
      // A binding holds an authorization once AUTH_CODE_RECEIVED wrote its authState and auth_code_at
      // (never cleared); an expired or withdrawn code keeps its authState but not auth_code_at,
      // and its late authorization must still be revoked.
      const held = binding?.auth_state === authState && binding.auth_code_at !== null;
      if (state.status === 'used' || held) return { outcome: 'duplicate' as const };
      if (state.status === 'current' && binding?.state === 'QR_SHOWN') {
        const sealed = this.box.seal(authCode, sealContext(binding.id, 'auth_code'));
        const now = repo.clock.now();
        const res = await repo.applyIn(
          trx,
          binding.id,
          'AUTH_CODE_RECEIVED',
          { auth_state: authState, auth_code_enc: sealed.data, key_id: sealed.keyId, auth_code_at: now, code_value: null, next_action_at: now },
          async (t) => {
            await repo.setAuthState(authState, 'used', false, t);
            await repo.endCurrentAuthStates(t, binding.id, 'replaced');
          },
        );
        if (res?.changed) return { outcome: 'applied' as const, row: res.row };
      }
      // A code that was withdrawn, replaced or expired (or a binding that moved on): never attached.
      await this.#late(trx, authState, state.wallet, authCode);
      return { outcome: 'late-revoked' as const };
    });
  }

  /** Puts a late authCode in the revocation outbox and marks its authState used, in the caller's transaction. */
  async #late(trx: Transaction<Database>, authState: string, wallet: string, authCode: string): Promise<void> {
    await this.outbox.enqueue({ reason: 'late_authorization', wallet, authState, authCode }, trx);
    await this.repo.setAuthState(authState, 'used', false, trx);
  }

  async #tokenCanceled(token: string): Promise<NotificationOutcome> {
    const hash = lookupHash(token);
    const rows = await this.repo.byTokenHash(hash);
    if (rows.length === 0) return 'unknown';
    let outcome: NotificationOutcome = 'duplicate';
    for (const row of rows) {
      const res = await this.repo.apply(row.id, 'REVOKED', (r) =>
        r.state === 'REVOKED'
          ? {}
          : { access_token_enc: null, refresh_token_enc: null, auth_code_enc: null, next_action_at: null, error_code: 'BINDING_REVOKED' },
      );
      if (res?.changed) outcome = 'applied';
    }
    return outcome;
  }
}
