import { randomBytes } from 'node:crypto';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AntomApis, type AntomEndpoint, type AntomOutcome, type AntomReply, readOutcome } from '../src/antom/endpoints.ts';
import { nextAttemptAt, RevocationOutbox } from '../src/bindings/revocation-outbox.ts';
import { RevocationRepo } from '../src/bindings/revocation-repo.ts';
import { createLogger } from '../src/logger.ts';
import type { Store } from '../src/store/db.ts';
import { SecretBox } from '../src/store/secret-box.ts';
import { engines } from './support/env.ts';
import { useStore } from './support/rows.ts';

const answer = (resultStatus: 'S' | 'F' | 'U', resultCode: string, body: Record<string, unknown> = {}): AntomReply => ({
  kind: 'answer',
  result: { resultStatus, resultCode },
  body: { ...body, result: { resultStatus, resultCode } },
});
const silence: AntomReply = { kind: 'unknown', reason: 'timeout', detail: 'no answer' };

/** Antom as a script: each call takes the next reply for its endpoint, read as the client reads it, and is recorded. */
class ScriptedAntom {
  readonly calls: { endpoint: AntomEndpoint; payload: unknown }[] = [];
  readonly #answers = new Map<AntomEndpoint, AntomReply[]>();

  answer(endpoint: AntomEndpoint, ...outcomes: AntomReply[]): void {
    this.#answers.set(endpoint, [...(this.#answers.get(endpoint) ?? []), ...outcomes]);
  }

  async call<E extends AntomEndpoint>(endpoint: E, payload: AntomApis[E]['request']): Promise<AntomOutcome<AntomApis[E]['answer']>> {
    this.calls.push({ endpoint, payload });
    const next = this.#answers.get(endpoint)?.shift();
    if (!next) throw new Error(`unscripted ${endpoint} call`);
    return readOutcome(endpoint, next);
  }
}

for (const engine of engines()) {
  describe.skipIf(engine.skip !== undefined)(`revocation outbox on ${engine.name}`, () => {
    if (engine.skip) console.warn(engine.skip);
    const opened = useStore(engine.name);
    const box = new SecretBox({ k1: randomBytes(32).toString('base64') }, 'k1');
    let store: Store;
    let t: number;
    let antom: ScriptedAntom;
    let repo: RevocationRepo;
    let outbox: RevocationOutbox;
    const rows = () => store.db.selectFrom('token_revocations').selectAll().execute();

    beforeAll(() => {
      store = opened.store;
    });
    beforeEach(async () => {
      await store.db.deleteFrom('token_revocations').execute();
      t = 1_700_000_000_000;
      antom = new ScriptedAntom();
      repo = new RevocationRepo(store, { now: () => t });
      outbox = new RevocationOutbox(repo, box, antom, createLogger('silent'));
    });

    it('seals the token it is given and revokes it at Antom once', async () => {
      expect(await outbox.enqueue({ reason: 'unlinked', wallet: 'ALIPAY_HK', bindingId: 'b1', accessToken: 'tok-secret' })).toBe(true);
      const [queued] = await rows();
      expect(queued).toMatchObject({ state: 'PENDING_REVOKE', binding_id: 'b1', reason: 'unlinked', attempts: 0, next_attempt_at: t });
      expect(JSON.stringify(queued)).not.toContain('tok-secret');
      antom.answer('revoke', answer('S', 'SUCCESS'));
      await outbox.drain();
      await outbox.drain();
      expect(antom.calls).toEqual([{ endpoint: 'revoke', payload: { accessToken: 'tok-secret' } }]);
      expect(await rows()).toEqual([expect.objectContaining({ state: 'DONE', access_token_enc: null, attempts: 1, lease_until: null, last_code: 'SUCCESS' })]);
    });

    it('exchanges a late authCode for a token first, then revokes that token', async () => {
      await outbox.enqueue({ reason: 'late_authorization', wallet: 'DANA', authState: 'st_1', authCode: 'code-1' });
      expect(await rows()).toEqual([expect.objectContaining({ state: 'PENDING_TOKEN', auth_state: 'st_1', access_token_enc: null })]);
      antom.answer('applyToken', answer('S', 'SUCCESS', { accessToken: 'tok-late' }));
      antom.answer('revoke', answer('S', 'SUCCESS'));
      await outbox.drain();
      expect(antom.calls).toEqual([
        { endpoint: 'applyToken', payload: { grantType: 'AUTHORIZATION_CODE', customerBelongsTo: 'DANA', authCode: 'code-1' } },
        { endpoint: 'revoke', payload: { accessToken: 'tok-late' } },
      ]);
      expect(await rows()).toEqual([expect.objectContaining({ state: 'DONE', auth_code_enc: null, access_token_enc: null })]);
    });

    it('retries an unanswered revoke with a doubling backoff, never before it is due', async () => {
      await outbox.enqueue({ reason: 'unlinked', wallet: 'ALIPAY_HK', accessToken: 'tok-2' });
      antom.answer('revoke', silence, silence, answer('S', 'SUCCESS'));
      await outbox.drain();
      const first = (await rows())[0];
      expect(first).toMatchObject({ state: 'PENDING_REVOKE', attempts: 1, lease_until: null, last_code: 'timeout', next_attempt_at: t + 2_000 });
      t += 1_999;
      await outbox.drain();
      expect(antom.calls).toHaveLength(1);
      t += 1;
      await outbox.drain();
      expect((await rows())[0]).toMatchObject({ attempts: 2, next_attempt_at: t + 4_000 });
      t += 4_000;
      await outbox.drain();
      expect(antom.calls).toHaveLength(3);
      expect((await rows())[0]).toMatchObject({ state: 'DONE', attempts: 3 });
      expect(nextAttemptAt(0, 10)).toBe(60_000);
    });

    it('leaves a row another process holds the lease of, and takes it over once the lease ran out', async () => {
      await outbox.enqueue({ reason: 'unlinked', wallet: 'ALIPAY_HK', accessToken: 'tok-3' });
      const [row] = await rows();
      expect(await repo.claim(row?.id as string, t, 30_000)).toBe(true);
      await outbox.drain();
      expect(antom.calls).toEqual([]);
      t += 30_001;
      antom.answer('revoke', answer('S', 'SUCCESS'));
      await outbox.drain();
      expect(antom.calls).toHaveLength(1);
    });

    it('gives up on a refused revoke and on an authCode past its window, but counts a dead token as revoked', async () => {
      await outbox.enqueue({ reason: 'a', wallet: 'ALIPAY_HK', bindingId: 'refused', accessToken: 'tok-4' });
      await outbox.enqueue({ reason: 'b', wallet: 'ALIPAY_HK', bindingId: 'dead', accessToken: 'tok-5' });
      await outbox.enqueue({ reason: 'c', wallet: 'ALIPAY_HK', authState: 'st_late', authCode: 'code-old' });
      t += 70_001;
      antom.answer('revoke', answer('F', 'ACCESS_DENIED'), answer('F', 'INVALID_ACCESS_TOKEN'));
      antom.answer('applyToken', silence);
      await outbox.drain();
      const by = Object.fromEntries((await rows()).map((r) => [r.binding_id ?? r.auth_state, r]));
      expect(by['refused']).toMatchObject({ state: 'FAILED', last_code: 'ACCESS_DENIED' });
      expect(by['dead']).toMatchObject({ state: 'DONE', last_code: 'INVALID_ACCESS_TOKEN' });
      expect(by['st_late']).toMatchObject({ state: 'FAILED', auth_code_enc: null, last_code: 'timeout' });
    });

    it('writes within the caller transaction (gone with its rollback) and nothing without a secret', async () => {
      const rollback = store.db.transaction().execute(async (trx) => {
        await outbox.enqueue({ reason: 'unlinked', wallet: 'ALIPAY_HK', accessToken: 'tok-6' }, trx);
        throw new Error('roll back');
      });
      await expect(rollback).rejects.toThrow('roll back');
      expect(await outbox.enqueue({ reason: 'unlinked', wallet: 'ALIPAY_HK', bindingId: 'b9' })).toBe(false);
      expect(await rows()).toEqual([]);
    });
  });
}
