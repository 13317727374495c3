import { deviceSecretContext, revocationSealContext, sealContext } from './seal-context.ts';
import type { Store } from './db.ts';
import type { SecretBox } from './secret-box.ts';

/**
 * Re-seals every secret at rest with the active key: device secrets, binding auth codes and
 * tokens, and the revocation outbox. Rows already on the active key are skipped, so it can be
 * re-run; each row is rewritten in one statement with its new key id. Returns rows rewritten.
 */
export async function reencryptAll(store: Store, box: SecretBox): Promise<number> {
  let count = 0;
  const reseal = (keyId: string, data: string | null, context: string): string | null =>
    data === null ? null : box.seal(box.open({ keyId, data }, context), context).data;
  for (const d of await store.db.selectFrom('devices').selectAll().where('key_id', '!=', box.activeKeyId).execute()) {
    await store.db
      .updateTable('devices')
      .set({ secret_enc: reseal(d.key_id, d.secret_enc, deviceSecretContext(d.id)) as string, key_id: box.activeKeyId })
      .where('id', '=', d.id)
      .where('key_id', '=', d.key_id)
      .execute();
    count++;
  }
  for (const b of await store.db.selectFrom('bindings').selectAll().where('key_id', 'is not', null).where('key_id', '!=', box.activeKeyId).execute()) {
    const keyId = b.key_id as string;
    await store.db
      .updateTable('bindings')
      .set({
        auth_code_enc: reseal(keyId, b.auth_code_enc, sealContext(b.id, 'auth_code')),
        access_token_enc: reseal(keyId, b.access_token_enc, sealContext(b.id, 'access_token')),
        refresh_token_enc: reseal(keyId, b.refresh_token_enc, sealContext(b.id, 'refresh_token')),
        key_id: box.activeKeyId,
      })
      .where('id', '=', b.id)
      .where('version', '=', b.version)
      .execute();
    count++;
  }
  for (const r of await store.db.selectFrom('token_revocations').selectAll().where('key_id', '!=', box.activeKeyId).execute()) {
    await store.db
      .updateTable('token_revocations')
      .set({
        auth_code_enc: reseal(r.key_id, r.auth_code_enc, revocationSealContext(r.id, 'auth_code')),
        access_token_enc: reseal(r.key_id, r.access_token_enc, revocationSealContext(r.id, 'access_token')),
        key_id: box.activeKeyId,
      })
      .where('id', '=', r.id)
      .where('key_id', '=', r.key_id)
      .execute();
    count++;
  }
  return count;
}
