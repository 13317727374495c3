import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { AntomClient } from '../antom/client.ts';
import { outcomeCode } from '../antom/endpoints.ts';
import { AUTH_CODE_WINDOW_MS, type TokenGrant } from '../antom/messages.ts';
import type { RelayConfig } from '../config.ts';
import { tokenInUse } from '../payments/purchase-repo.ts';
import { PAY_IN_FLIGHT_RETRY_MS } from '../payments/token-use.ts';
import { sealContext } from '../store/seal-context.ts';
import { lookupHash, type SecretBox } from '../store/secret-box.ts';
import { BINDING_LEASE_MS, type BindingRepo, type BindingRow, maskAccount } from './binding-repo.ts';
import type { RelayBindingService } from './binding-service.ts';
import type { RevocationOutbox } from './revocation-outbox.ts';

const RETRY_MS = 2_000;

/**
 * The database-driven half of bindings: exchanges authCodes for tokens, refreshes tokens
 * before they expire, renews or expires unscanned codes, ends kiosk visits, and drains the
 * revocation outbox (revocation-outbox.ts). Each row is claimed with a lease, so several relay processes share the
 * work without doing any Antom call twice at the same time.
 */
export class BindingWorker {
  constructor(
    private readonly repo: BindingRepo,
    private readonly service: RelayBindingService,
    private readonly box: SecretBox,
    private readonly antom: AntomClient,
    private readonly outbox: RevocationOutbox,
    private readonly logger: Logger,
    private readonly settings: RelayConfig['bindings'],
  ) {}

  /** One pass over due bindings and due revocations. */
  async tick(): Promise<void> {
    const now = this.repo.clock.now();
    const due = await this.repo.due(now, ['QR_SHOWN', 'AUTHORIZED', 'ACTIVE', 'REFRESHING'], 20);
    for (const row of due) {
      if (!(await this.repo.claim(row.id, BINDING_LEASE_MS, { version: row.version, due: true }))) continue;
      try {
        await this.#handle(row);
      } catch (err) {
        this.logger.error({ bindingId: row.id, err: (err as Error).message }, 'binding work failed');
        await this.repo.release(row.id, this.repo.clock.now() + RETRY_MS);
      }
    }
    await this.outbox.drain();
  }

  async #handle(row: BindingRow): Promise<void> {
    const now = this.repo.clock.now();
    if (row.state === 'QR_SHOWN') {
      // The automatic renewal of an unscanned code is the worker's alone (devices only show
      // the code and its expiry); a player's tap takes the same lease (RelayBindingService.refreshCode).
      if (row.refreshes_left > 0) {
        await this.service.issueLeased(row, true, now + RETRY_MS);
        return;
      }
      await this.repo.apply(row.id, 'QR_EXPIRED', { code_value: null, next_action_at: null, lease_until: null, error_code: 'QR_REFRESH_LIMIT' }, (trx) =>
        this.repo.endCurrentAuthStates(trx, row.id, 'expired'),
      );
      return;
    }
    if (row.state === 'AUTHORIZED') return this.#exchange(row);
    const isKiosk = row.owner.startsWith('device:');
    if (isKiosk && row.activated_at !== null && row.activated_at + this.settings.kioskVisitMs <= now) {
      await this.service.endFromWorker(row, 'kiosk_visit_end');
      await this.repo.release(row.id, null);
      return;
    }
    return this.#refresh(row);
  }

  #nextAction(row: Pick<BindingRow, 'owner' | 'activated_at' | 'access_token_expires_at'>): number | null {
    const times: number[] = [];
    if (row.access_token_expires_at !== null) times.push(row.access_token_expires_at - this.settings.tokenRefreshLeadMs);
    if (row.owner.startsWith('device:') && row.activated_at !== null) times.push(row.activated_at + this.settings.kioskVisitMs);
    return times.length ? Math.min(...times) : null;
  }

  #tokenPatch(row: BindingRow, grant: TokenGrant, keepRefresh: string | undefined): Partial<BindingRow> {
    const access = this.box.seal(grant.accessToken, sealContext(row.id, 'access_token'));
    const refreshToken = grant.refreshToken ?? keepRefresh;
    const refresh = refreshToken ? this.box.seal(refreshToken, sealContext(row.id, 'refresh_token')) : undefined;
    return {
      key_id: access.keyId,
      access_token_enc: access.data,
      access_token_hash: lookupHash(grant.accessToken),
      access_token_expires_at: grant.accessTokenExpiresAt ?? null,
      refresh_token_enc: refresh?.data ?? null,
      refresh_token_expires_at: grant.refreshToken ? (grant.refreshTokenExpiresAt ?? null) : row.refresh_token_expires_at,
    };
  }

  async #exchange(row: BindingRow): Promise<void> {
    const now = this.repo.clock.now();
    if (!row.auth_code_enc || !row.key_id || row.auth_code_at === null) {
      await this.repo.apply(row.id, 'TOKEN_REQUEST_FAILED', { lease_until: null, next_action_at: null, error_code: 'BINDING_FAILED' });
      return;
    }
    const authCode = this.box.open({ keyId: row.key_id, data: row.auth_code_enc }, sealContext(row.id, 'auth_code'));
    const outcome = await this.antom.call('applyToken', { grantType: 'AUTHORIZATION_CODE', customerBelongsTo: row.wallet, authCode });
    if (outcome.kind === 'succeeded') {
      const grant = outcome.answer;
      const activated = this.repo.clock.now();
      const accountRef = createHash('sha256')
        .update(`${row.wallet}:${grant.userLoginId ?? row.id}`)
        .digest('hex');
      const res = await this.repo.apply(row.id, 'TOKEN_ISSUED', (current) => {
        const patch = { ...this.#tokenPatch(current, grant, undefined), auth_code_enc: null, activated_at: activated };
        return {
          ...patch,
          masked_account: maskAccount(grant.userLoginId),
          account_ref: accountRef,
          error_code: null,
          lease_until: null,
          next_action_at: this.#nextAction({ ...current, ...patch }),
        };
      });
      if (!res) {
        // Withdrawn or unlinked while applyToken ran: this token belongs to nobody; revoke it.
        this.logger.warn({ bindingId: row.id }, 'token issued for a binding that ended meanwhile: revoking');
        await this.outbox.enqueue({ reason: 'ended_during_exchange', wallet: row.wallet, bindingId: row.id, accessToken: grant.accessToken });
        return;
      }
      await this.#retireOlder(res.row);
      return;
    }
    if (outcome.kind === 'refused' || now - row.auth_code_at > AUTH_CODE_WINDOW_MS) {
      this.logger.warn({ bindingId: row.id, code: outcomeCode(outcome) }, 'applyToken failed');
      await this.repo.apply(row.id, 'TOKEN_REQUEST_FAILED', { auth_code_enc: null, lease_until: null, next_action_at: null, error_code: 'BINDING_FAILED' });
      return;
    }
    await this.repo.release(row.id, now + RETRY_MS);
  }

  /** A launcher player keeps one link per wallet: an older active one is revoked once the new one is active. */
  async #retireOlder(active: BindingRow): Promise<void> {
    const older = await this.repo.siblings(active, ['ACTIVE', 'REFRESHING', 'AUTHORIZED']);
    for (const row of older) await this.service.endFromWorker(row, 'replaced_by_new_link');
  }

  /**
   * REFRESH_STARTED, unless a pay of the binding may still be sending the token the refresh would
   * rotate (payments/token-use.ts owns the rule): then nothing changes and the refresh defers
   * itself. A binding already REFRESHING (a pass that ended after starting it) goes on: no pay
   * reads its token while it is REFRESHING.
   */
  async #startRefresh(row: BindingRow, now: number): Promise<'started' | 'pay-in-flight' | 'refused'> {
    const res = await this.repo.transaction(async (trx) => {
      if (await tokenInUse(trx, this.repo.store.dialect, row, now)) return 'pay-in-flight' as const;
      if (row.state !== 'ACTIVE') return undefined;
      return (await this.repo.applyIn(trx, row.id, 'REFRESH_STARTED')) ?? ('refused' as const);
    });
    if (typeof res === 'string') return res;
    if (res?.changed) this.repo.publish(res.row);
    return 'started';
  }

  async #refresh(row: BindingRow): Promise<void> {
    const now = this.repo.clock.now();
    const expired = (t: number | null): boolean => t !== null && t <= now;
    if (!row.refresh_token_enc || !row.key_id) {
      if (expired(row.access_token_expires_at)) {
        await this.repo.apply(row.id, 'TOKEN_EXPIRED', { access_token_enc: null, lease_until: null, next_action_at: null, error_code: 'BINDING_EXPIRED' });
      } else {
        await this.repo.release(row.id, row.access_token_expires_at);
      }
      return;
    }
    const start = await this.#startRefresh(row, now);
    if (start === 'pay-in-flight') return this.repo.release(row.id, now + PAY_IN_FLIGHT_RETRY_MS);
    if (start === 'refused') return this.repo.release(row.id, null);
    const rejected = { access_token_enc: null, refresh_token_enc: null, lease_until: null, next_action_at: null, error_code: 'BINDING_EXPIRED' };
    if (expired(row.refresh_token_expires_at)) {
      await this.repo.apply(row.id, 'REFRESH_REJECTED', rejected);
      return;
    }
    const refreshToken = this.box.open({ keyId: row.key_id, data: row.refresh_token_enc }, sealContext(row.id, 'refresh_token'));
    const outcome = await this.antom.call('applyToken', { grantType: 'REFRESH_TOKEN', customerBelongsTo: row.wallet, refreshToken });
    if (outcome.kind === 'succeeded') {
      await this.repo.apply(row.id, 'REFRESH_SUCCEEDED', (current) => {
        const patch = this.#tokenPatch(current, outcome.answer, refreshToken);
        return { ...patch, lease_until: null, error_code: null, next_action_at: this.#nextAction({ ...current, ...patch }) };
      });
      return;
    }
    if (outcome.kind === 'refused') {
      this.logger.warn({ bindingId: row.id, code: outcome.code }, 'refresh rejected: the player must link again');
      await this.repo.apply(row.id, 'REFRESH_REJECTED', rejected);
      return;
    }
    await this.repo.apply(row.id, 'REFRESH_DEFERRED', { lease_until: null, next_action_at: now + 5 * RETRY_MS });
  }
}
