/*
 * The additional data each sealed secret is bound to (SecretBox: a sealed value cannot be moved
 * to another row or column unnoticed). One owner for the contexts, since both the modules that
 * seal the values and the key rotation (rotate-keys.ts) that re-seals them must agree.
 */

/** Context of a binding's sealed authCode or token. */
export function sealContext(bindingId: string, column: 'auth_code' | 'access_token' | 'refresh_token'): string {
  return `binding:${bindingId}:${column}`;
}

/** Context of a revocation outbox row's sealed authCode or token. */
export function revocationSealContext(id: string, column: 'auth_code' | 'access_token'): string {
  return `revocation:${id}:${column}`;
}

/** Context of a device's sealed HMAC secret. */
export function deviceSecretContext(deviceId: string): string {
  return `device:${deviceId}:secret`;
}
