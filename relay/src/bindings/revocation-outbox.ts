import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { AntomClient } from '../antom/client.ts';
import { outcomeCode } from '../antom/endpoints.ts';
import { AUTH_CODE_WINDOW_MS } from '../antom/messages.ts';
import type { Database } from '../store/schema.ts';
import { revocationSealContext } from '../store/seal-context.ts';
import type { SecretBox } from '../store/secret-box.ts';
import type { RevocationRepo, RevocationRow } from './revocation-repo.ts';

/** How long one process owns an outbox row while it calls Antom for it. */
const LEASE_MS = 30_000;
/** The first retry delay; it doubles per attempt up to `MAX_BACKOFF_MS`. */
const RETRY_MS = 2_000;
const MAX_BACKOFF_MS = 60_000;
/** Rows worked per pass. */
const BATCH = 20;

/** What must be revoked at Antom: an access token, or an authCode still to be exchanged for one (or both). */
export interface Revocation {
  reason: string;
  wallet: string;
  bindingId?: string | null;
  /** The authState of a late authorization (unique: a second copy of it is refused by the store). */
  authState?: string | null;
  authCode?: string | undefined;
  accessToken?: string | undefined;
}

/** When the next attempt after `attempts` failed ones is due: 2 s, doubling, at most 60 s. */
export function nextAttemptAt(now: number, attempts: number): number {
  return now + Math.min(MAX_BACKOFF_MS, RETRY_MS * 2 ** Math.min(attempts, 5));
}

/**
 * The revocation outbox: tokens and authCodes the relay holds for nobody (an unlink, a kiosk
 * visit's end, an authorization that came too late, a token issued for a binding that ended
 * meanwhile) are written here, sealed, in the transaction that decided it, and revoked at Antom
 * by `drain`. Each row is claimed with a lease, so several relay processes share the work
 * without revoking anything twice at the same time; a failed attempt is retried with backoff
 * until Antom answers for good.
 */
export class RevocationOutbox {
  constructor(
    private readonly repo: RevocationRepo,
    private readonly box: SecretBox,
    private readonly antom: Pick<AntomClient, 'call'>,
    private readonly logger: Logger,
  ) {}

  /**
   * Seals the secrets and writes one outbox row on `db` (the caller's transaction, or the
   * store). Writes nothing when there is neither a token nor an authCode; returns whether it wrote.
   */
  async enqueue(item: Revocation, db?: Kysely<Database>): Promise<boolean> {
    if (!item.authCode && !item.accessToken) return false;
    const id = randomUUID();
    const code = item.authCode ? this.box.seal(item.authCode, revocationSealContext(id, 'auth_code')) : undefined;
    const token = item.accessToken ? this.box.seal(item.accessToken, revocationSealContext(id, 'access_token')) : undefined;
    await this.repo.insert(
      {
        id,
        reason: item.reason,
        bindingId: item.bindingId ?? null,
        authState: item.authState ?? null,
        wallet: item.wallet,
        keyId: (token ?? code)?.keyId ?? this.box.activeKeyId,
        authCodeEnc: code?.data ?? null,
        accessTokenEnc: token?.data ?? null,
      },
      db,
    );
    return true;
  }

  /** One pass over the due rows: a late authCode is exchanged first, then every token is revoked. */
  async drain(): Promise<void> {
    const now = this.repo.clock.now();
    for (const row of await this.repo.due(now, BATCH)) {
      if (!(await this.repo.claim(row.id, now, LEASE_MS))) continue;
      await this.#work(row, now);
    }
  }

  async #work(row: RevocationRow, now: number): Promise<void> {
    const backoff = nextAttemptAt(now, row.attempts);
    let accessToken: string | undefined;
    if (row.state === 'PENDING_TOKEN' && row.auth_code_enc) {
      const authCode = this.box.open({ keyId: row.key_id, data: row.auth_code_enc }, revocationSealContext(row.id, 'auth_code'));
      const outcome = await this.antom.call('applyToken', { grantType: 'AUTHORIZATION_CODE', customerBelongsTo: row.wallet, authCode });
      if (outcome.kind !== 'succeeded') {
        // An authCode is good for applyToken within its window only (Antom: an authCode is exchanged within minutes of its creation): past it, or refused, it is given up.
        const final = outcome.kind === 'refused' || now - row.created_at > AUTH_CODE_WINDOW_MS;
        const code = outcomeCode(outcome);
        await this.repo.attempted(row, final ? { state: 'FAILED', auth_code_enc: null, last_code: code } : { next_attempt_at: backoff, last_code: code });
        return;
      }
      accessToken = outcome.answer.accessToken;
      const sealed = this.box.seal(accessToken, revocationSealContext(row.id, 'access_token'));
      await this.repo.tokenObtained(row.id, sealed.keyId, sealed.data);
    } else if (row.access_token_enc) {
      accessToken = this.box.open({ keyId: row.key_id, data: row.access_token_enc }, revocationSealContext(row.id, 'access_token'));
    }
    if (!accessToken) {
      await this.repo.attempted(row, { state: 'FAILED', last_code: 'NOTHING_TO_REVOKE' });
      return;
    }
    const outcome = await this.antom.call('revoke', { accessToken });
    // A token Antom no longer knows (INVALID_ACCESS_TOKEN) is as revoked as it gets.
    if (outcome.kind === 'succeeded' || (outcome.kind === 'refused' && outcome.code === 'INVALID_ACCESS_TOKEN')) {
      await this.repo.attempted(row, { state: 'DONE', access_token_enc: null, last_code: outcome.code });
    } else if (outcome.kind === 'refused') {
      this.logger.error({ revocationId: row.id, code: outcome.code }, 'revoke refused');
      await this.repo.attempted(row, { state: 'FAILED', last_code: outcome.code });
    } else {
      await this.repo.attempted(row, { next_attempt_at: backoff, last_code: outcomeCode(outcome) });
    }
  }
}
