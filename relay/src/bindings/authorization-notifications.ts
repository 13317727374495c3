import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { isUniqueViolation } from '../store/db.ts';
import { lookupHash, type SecretBox } from '../store/secret-box.ts';
import type { BindingRepo } from './binding-repo.ts';
import { sealContext } from './binding-service.ts';

/** The outcome recorded for a notification (audit only). */
export type NotificationOutcome = 'applied' | 'duplicate' | 'late-revoked' | 'unknown' | 'ignored';

/**
 * notifyAuthorization (API.md §4). AUTHCODE_CREATED for the binding's live code moves it to
 * AUTHORIZED and hands the authCode to the worker (applyToken within the minute). An
 * authorization for a code that was withdrawn, replaced or expired is never attached: its
 * authCode goes to the revocation outbox, where it is exchanged and revoked at once.
 * TOKEN_CANCELED revokes the binding holding that token. Every path is idempotent.
 */
export class AuthorizationNotifications {
  constructor(
    private readonly repo: BindingRepo,
    private readonly box: SecretBox,
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

  async #authCode(authState: string, authCode: string): Promise<NotificationOutcome> {
    const { repo } = this;
    const state = await repo.store.db.selectFrom('auth_states').selectAll().where('auth_state', '=', authState).executeTakeFirst();
    if (!state) {
      this.logger.warn('authorization for an unknown authState; not ours, ignored');
      return 'unknown';
    }
    if (state.status === 'used') return 'duplicate';
    const binding = await repo.get(state.binding_id);
    if (state.status === 'current' && binding?.state === 'QR_SHOWN') {
      const sealed = this.box.seal(authCode, sealContext(binding.id, 'auth_code'));
      const now = repo.clock.now();
      const res = await repo.apply(
        binding.id,
        'AUTH_CODE_RECEIVED',
        {
          auth_state: authState,
          auth_code_enc: sealed.data,
          key_id: sealed.keyId,
          auth_code_at: now,
          code_value: null,
          next_action_at: now,
        },
        async (trx) => {
          await trx.updateTable('auth_states').set({ status: 'used' }).where('auth_state', '=', authState).execute();
          await trx
            .updateTable('auth_states')
            .set({ status: 'replaced' })
            .where('binding_id', '=', binding.id)
            .where('status', '=', 'current')
            .execute();
        },
      );
      if (res?.changed) {
        this.kick();
        return 'applied';
      }
      // The binding changed state under us: fall through and treat it as late.
    }
    return this.#late(authState, state.wallet, authCode, state.binding_id);
  }

  async #late(authState: string, wallet: string, authCode: string, bindingId: string): Promise<NotificationOutcome> {
    const now = this.repo.clock.now();
    const id = randomUUID();
    const sealed = this.box.seal(authCode, `revocation:${id}:auth_code`);
    try {
      await this.repo.store.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('token_revocations')
          .values({
            id,
            reason: 'late_authorization',
            binding_id: null,
            auth_state: authState,
            wallet,
            key_id: sealed.keyId,
            auth_code_enc: sealed.data,
            access_token_enc: null,
            state: 'PENDING_TOKEN',
            attempts: 0,
            next_attempt_at: now,
            lease_until: null,
            last_code: null,
            created_at: now,
            updated_at: now,
          })
          .execute();
        await trx.updateTable('auth_states').set({ status: 'used' }).where('auth_state', '=', authState).execute();
      });
    } catch (err) {
      if (isUniqueViolation(err)) return 'duplicate';
      throw err;
    }
    this.logger.warn({ bindingId }, 'late authorization for a withdrawn or replaced code: revoking it');
    this.kick();
    return 'late-revoked';
  }

  async #tokenCanceled(token: string): Promise<NotificationOutcome> {
    const hash = lookupHash(token);
    const rows = await this.repo.store.db.selectFrom('bindings').select(['id', 'state']).where('access_token_hash', '=', hash).execute();
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
