import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DomainError, isWalletId } from '@scan-to-bind/shared/domain';
import type { Logger } from 'pino';
import type { AntomClient } from '../antom/client.ts';
import { outcomeCode } from '../antom/endpoints.ts';
import type { RelayConfig } from '../config.ts';
import type { RelayBinding } from '@scan-to-bind/shared/relay-api';
import type { Caller } from '../devices/device-service.ts';
import { sealContext } from '../store/seal-context.ts';
import type { SecretBox } from '../store/secret-box.ts';
import { BINDING_LEASE_MS, type BindingRepo, type BindingRow, bindingStatus } from './binding-repo.ts';
import { currentVisit, recordVisit } from './kiosk-visit-repo.ts';
import { assertVisitAllowed } from './kiosk-visits.ts';
import type { RevocationOutbox } from './revocation-outbox.ts';

/** What the binding service needs. */
export interface BindingDeps {
  repo: BindingRepo;
  box: SecretBox;
  antom: AntomClient;
  /** Where the tokens and authCodes of an ended binding go to be revoked at Antom. */
  outbox: RevocationOutbox;
  logger: Logger;
  settings: RelayConfig['bindings'];
  authNotifyUrl: string;
  authRedirectUrl: string;
  /** Wakes the worker (token exchange, revocations) without waiting for its next tick. */
  kick(): void;
}

const LIVE_STATES = ['QR_SHOWN', 'AUTHORIZED', 'ACTIVE', 'REFRESHING'];

/** A tap for a new code within this time of the code's issue answers that code (refreshCode). */
const JUST_ISSUED_MS = 60_000;
/** How often a tap waiting for another pass's lease looks at the row again. */
const TAP_POLL_MS = 100;

/** A fresh authState (the merchant's unique value per consult, echoed in notifyAuthorization). */
function newAuthState(): string {
  return `st_${randomBytes(24).toString('base64url')}`;
}

/**
 * Bindings as devices and Antom's authorization notifications drive them: start (consult), a
 * fresh code, withdraw, unlink, and the AUTHCODE_CREATED / TOKEN_CANCELED notifications. Calls
 * that take time (applyToken, refresh, revoke retries) run in the worker from database rows.
 */
export class RelayBindingService {
  readonly #d: BindingDeps;

  constructor(deps: BindingDeps) {
    this.#d = deps;
  }

  /**
   * Starts a binding: records a fresh authState, consults Antom, and returns the QR status. A
   * kiosk names its visit: a visit the relay has not heard of yet becomes the current one
   * (the client rotates first and tells the relay when it can, kiosk-visits.ts).
   */
  async start(caller: Caller, wallet: unknown, visitId?: string): Promise<RelayBinding> {
    if (!isWalletId(wallet)) throw new DomainError('WALLET_NOT_AVAILABLE', String(wallet).slice(0, 32));
    assertVisitAllowed(caller, visitId);
    const { repo } = this.#d;
    if (visitId !== undefined) await this.rotateVisit(caller, visitId);
    const visit = caller.kind === 'kiosk' ? (visitId ?? (await currentVisit(repo.store, caller.deviceId))) : null;
    // A kiosk visit has one binding: starting again ends whatever the last visitor left.
    // A launcher player's older pending codes are withdrawn; an active link stays until the new one is active.
    const others = await repo.inStates(caller.owner, caller.kind === 'kiosk' ? LIVE_STATES : ['QR_SHOWN']);
    for (const other of others) await this.#end(other, 'kiosk_new_visit');
    const now = repo.clock.now();
    const id = randomUUID();
    const row: BindingRow = {
      id,
      owner: caller.owner,
      device_id: caller.deviceId,
      player_id: caller.player?.id ?? null,
      wallet,
      state: 'NONE',
      version: 0,
      error_code: null,
      auth_state: null,
      code_value: null,
      code_expires_at: null,
      refreshes_left: this.#d.settings.maxCodeRefreshes,
      key_id: null,
      auth_code_enc: null,
      auth_code_at: null,
      access_token_enc: null,
      access_token_hash: null,
      access_token_expires_at: null,
      refresh_token_enc: null,
      refresh_token_expires_at: null,
      masked_account: null,
      account_ref: null,
      next_action_at: null,
      lease_until: null,
      created_at: now,
      updated_at: now,
      activated_at: null,
      touched_at: Date.now(),
      visit_id: visit,
    };
    const authState = newAuthState();
    await repo.create(row, authState);
    const issued = await this.issueCode(row, false, authState);
    if (!issued) throw new DomainError('PROVIDER_ERROR', 'consult failed');
    return bindingStatus(issued);
  }

  /**
   * Consults Antom with a new authState and shows its code. The authState is written before
   * the call, so even an instant notification finds it. `countsAsRefresh` spends one refresh.
   * `written`: an authState the caller has already stored for this row (a new binding).
   */
  async issueCode(row: BindingRow, countsAsRefresh: boolean, written?: string): Promise<BindingRow | undefined> {
    const { repo, antom, logger } = this.#d;
    const authState = written ?? newAuthState();
    if (!written) await repo.addAuthState(authState, row);
    const outcome = await antom.call('consult', {
      customerBelongsTo: row.wallet,
      authRedirectUrl: this.#d.authRedirectUrl,
      scopes: ['AGREEMENT_PAY'],
      authState,
      env: { terminalType: 'WEB' },
      terminalType: 'WEB',
      authNotifyUrl: this.#d.authNotifyUrl,
    });
    if (outcome.kind !== 'succeeded') {
      logger.warn({ bindingId: row.id, outcome: outcomeCode(outcome) }, 'consult failed');
      await repo.setAuthState(authState, 'withdrawn');
      return undefined;
    }
    const now = repo.clock.now();
    const expiresAt = now + this.#d.settings.qrLifetimeMs;
    const result = await repo.apply(
      row.id,
      'QR_ISSUED',
      (current) => ({
        auth_state: authState,
        code_value: outcome.answer.codeValue,
        code_expires_at: expiresAt,
        next_action_at: expiresAt,
        error_code: null,
        refreshes_left: countsAsRefresh ? Math.max(0, current.refreshes_left - 1) : current.refreshes_left,
      }),
      (trx) => repo.endCurrentAuthStates(trx, row.id, 'replaced', authState),
    );
    if (!result) {
      // The binding moved on meanwhile (authorized, withdrawn): this code is not shown to anyone.
      await repo.setAuthState(authState, 'withdrawn', true);
      return repo.get(row.id);
    }
    return result.row;
  }

  /**
   * Issues a fresh code for a row whose lease the caller holds (`repo.claim`), then releases
   * the lease: the next look is at the new code's expiry, or at `retryAt` when consult failed.
   */
  async issueLeased(row: BindingRow, countsAsRefresh: boolean, retryAt: number | null): Promise<BindingRow | undefined> {
    let issued: BindingRow | undefined;
    try {
      issued = await this.issueCode(row, countsAsRefresh);
    } finally {
      const next = issued ? (issued.state === 'QR_SHOWN' ? issued.code_expires_at : issued.next_action_at) : retryAt;
      await this.#d.repo.release(row.id, next);
    }
    return issued;
  }

  /**
   * The player's tap for a new code (POST /v1/bindings/:id/refresh-code). The rule of the QR
   * code's life (the product's single-use QR, dead after its lifetime): the relay's worker alone
   * renews an unscanned code at its expiry, at most `maxCodeRefreshes` times, then ends the
   * binding EXPIRED (QR_REFRESH_LIMIT); devices only show the code, its expiry and
   * refreshesLeft. A tap is the player asking, so:
   * - it takes the worker's lease on the row (version-checked), so a tap and a worker pass, in
   *   this or another relay process, never both consult for the same expiry; a tap that finds
   *   the lease taken waits for that pass and answers its result;
   * - a code issued less than JUST_ISSUED_MS ago is answered as it is (the tap raced a renewal
   *   the device had not seen yet): no consult;
   * - otherwise it consults, also after the automatic renewals are used up, and spends none of
   *   them (they cap what an unattended screen mints);
   * - an ended binding (EXPIRED, FAILED, ...) takes no new code: the device starts a new binding.
   */
  async refreshCode(caller: Caller, id: string): Promise<RelayBinding> {
    const { repo } = this.#d;
    const waitUntil = Date.now() + BINDING_LEASE_MS + TAP_POLL_MS;
    for (;;) {
      const row = await repo.getOwned(caller.owner, id);
      if (row.state !== 'QR_SHOWN') throw new DomainError('ILLEGAL_TRANSITION', `binding is ${row.state}`);
      const now = repo.clock.now();
      const issuedAt = row.code_expires_at === null ? null : row.code_expires_at - this.#d.settings.qrLifetimeMs;
      if (row.code_expires_at !== null && row.code_expires_at > now && issuedAt !== null && issuedAt > now - JUST_ISSUED_MS) {
        return bindingStatus(row);
      }
      if (await repo.claim(row.id, BINDING_LEASE_MS, { version: row.version })) {
        const issued = await this.issueLeased(row, false, row.next_action_at);
        if (!issued) throw new DomainError('PROVIDER_ERROR', 'consult failed');
        if (issued.state !== 'QR_SHOWN') throw new DomainError('ILLEGAL_TRANSITION', `binding is ${issued.state}`);
        return bindingStatus(issued);
      }
      // Another pass holds the lease (or the row changed since it was read): look again once
      // it is done. A lease outlives its holder by at most BINDING_LEASE_MS.
      if (Date.now() > waitUntil) throw new DomainError('PROVIDER_ERROR', 'a code is still being issued');
      await sleep(TAP_POLL_MS);
    }
  }

  /** Withdraws a shown code (player closed the dialog, kiosk reset). */
  async withdraw(caller: Caller, id: string): Promise<RelayBinding> {
    const row = await this.#d.repo.getOwned(caller.owner, id);
    if (row.state !== 'QR_SHOWN' && row.state !== 'FAILED' && row.state !== 'AUTHORIZED') {
      throw new DomainError('ILLEGAL_TRANSITION', `cannot withdraw a binding that is ${row.state}`);
    }
    const ended = await this.#end(row, 'withdrawn');
    return bindingStatus(ended);
  }

  /** Unlinks: the binding stops at once; its token is revoked at Antom (retried from the outbox). */
  async unlink(caller: Caller, id: string): Promise<RelayBinding> {
    const row = await this.#d.repo.getOwned(caller.owner, id);
    const ended = await this.#end(row, 'unlinked');
    return bindingStatus(ended);
  }

  /** Operator revocation (admin API): like an unlink, for any owner's binding. */
  async adminRevoke(id: string): Promise<RelayBinding> {
    const row = await this.#d.repo.get(id);
    if (!row) throw new DomainError('BINDING_NOT_FOUND');
    return bindingStatus(await this.#end(row, 'revoked by an operator'));
  }

  /**
   * Ends a binding whatever its state: a shown code is withdrawn, an authorization or a token
   * is moved to the revocation outbox in the same transaction as the state change.
   */
  async #end(row: BindingRow, reason: string): Promise<BindingRow> {
    const { repo, box } = this.#d;
    if (row.state === 'QR_SHOWN' || row.state === 'NONE') {
      const res = await repo.apply(row.id, 'QR_WITHDRAWN', { code_value: null, next_action_at: null }, (trx) =>
        repo.endCurrentAuthStates(trx, row.id, 'withdrawn'),
      );
      if (res) return res.row;
      return (await repo.get(row.id)) ?? row;
    }
    if (row.state === 'AUTHORIZED' || row.state === 'ACTIVE' || row.state === 'REFRESHING') {
      const res = await repo.apply(
        row.id,
        'REVOKED',
        {
          auth_code_enc: null,
          access_token_enc: null,
          refresh_token_enc: null,
          next_action_at: null,
          error_code: reason === 'unlinked' ? null : 'BINDING_REVOKED',
        },
        async (trx, _next, fresh) => {
          const authCode =
            fresh.auth_code_enc && fresh.key_id ? box.open({ keyId: fresh.key_id, data: fresh.auth_code_enc }, sealContext(row.id, 'auth_code')) : undefined;
          const accessToken =
            fresh.access_token_enc && fresh.key_id
              ? box.open({ keyId: fresh.key_id, data: fresh.access_token_enc }, sealContext(row.id, 'access_token'))
              : undefined;
          await this.#d.outbox.enqueue({ reason, wallet: row.wallet, bindingId: row.id, authCode, accessToken }, trx);
        },
      );
      this.#d.kick();
      if (res) return res.row;
    }
    return (await repo.get(row.id)) ?? row;
  }

  /** Ends a binding from the worker (kiosk visit over, replaced by a newer link). */
  endFromWorker(row: BindingRow, reason: string): Promise<BindingRow> {
    return this.#end(row, reason);
  }

  /**
   * A kiosk's new visit (POST /v1/kiosk/visits): recorded as the device's current one, and every
   * live binding of another visit ended (revoked at Antom through the outbox). Repeating it
   * ends nothing more and answers the same, so the client retries it until it gets an answer.
   */
  async rotateVisit(caller: Caller, visitId: string): Promise<{ visitId: string; endedBindings: number }> {
    if (caller.kind !== 'kiosk') throw new DomainError('INVALID_INPUT', 'only a kiosk has visits');
    const { repo } = this.#d;
    await recordVisit(repo.store, caller.deviceId, visitId, repo.clock.now());
    const older = await repo.outsideVisit(caller.owner, LIVE_STATES, visitId);
    for (const row of older) await this.#end(row, 'kiosk_visit_end');
    return { visitId, endedBindings: older.length };
  }

  /**
   * The owner's current binding: the newest live one, else the newest of any state. A kiosk
   * sees only the bindings of `visitId` (default: its current visit), never an older visitor's.
   */
  async current(caller: Caller, visitId?: string): Promise<RelayBinding> {
    assertVisitAllowed(caller, visitId);
    const { repo } = this.#d;
    const visit = caller.kind === 'kiosk' ? (visitId ?? (await currentVisit(repo.store, caller.deviceId))) : undefined;
    const rows = await repo.newest(caller.owner, visit);
    const rank = (s: string): number => (s === 'ACTIVE' || s === 'REFRESHING' ? 0 : s === 'AUTHORIZED' || s === 'QR_SHOWN' ? 1 : 2);
    const best = [...rows].sort((a, b) => rank(a.state) - rank(b.state))[0];
    if (!best) throw new DomainError('BINDING_NOT_FOUND');
    return bindingStatus(best);
  }

  /** One binding of the caller. */
  async status(caller: Caller, id: string): Promise<RelayBinding> {
    return bindingStatus(await this.#d.repo.getOwned(caller.owner, id));
  }
}
