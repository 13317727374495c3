import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
/** GCM's full tag; a shorter one would make forging a sealed value 2^(8·n) tries, not 2^128. */
const TAG_BYTES = 16;

/** A sealed value: which key sealed it and the ciphertext (base64 of iv | tag | data). */
export interface Sealed {
  keyId: string;
  data: string;
}

/**
 * AES-256-GCM encryption of secrets at rest (access and refresh tokens, auth codes, device
 * secrets). Each row stores the id of the key that sealed it, so keys can rotate: a new key
 * becomes active for new writes while old rows still open with their own key until
 * re-encrypted. `context` is bound as additional data so a value cannot be moved to another
 * row or column unnoticed.
 */
export class SecretBox {
  readonly #keys: Map<string, Buffer>;
  readonly activeKeyId: string;

  constructor(keys: Record<string, string>, activeKeyId: string) {
    this.#keys = new Map();
    for (const [id, b64] of Object.entries(keys)) {
      const key = Buffer.from(b64, 'base64');
      if (key.length !== 32) throw new Error(`encryption key ${id} must be 32 bytes (base64), got ${key.length}`);
      this.#keys.set(id, key);
    }
    if (!this.#keys.has(activeKeyId)) throw new Error(`active encryption key ${activeKeyId} is not among the keys`);
    this.activeKeyId = activeKeyId;
  }

  /** Seals plaintext with the active key. */
  seal(plaintext: string, context: string): Sealed {
    const key = this.#keys.get(this.activeKeyId) as Buffer;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { keyId: this.activeKeyId, data: Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64') };
  }

  /**
   * Opens a sealed value; throws when the key is unknown, the data is shorter than IV + tag, or
   * the data or context was altered. The tag length is fixed at 16 bytes, so a value cut short
   * never checks a truncated tag.
   */
  open(sealed: Sealed, context: string): string {
    const key = this.#keys.get(sealed.keyId);
    if (!key) throw new Error(`encryption key ${sealed.keyId} is not configured`);
    const raw = Buffer.from(sealed.data, 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new Error(`sealed value is too short (${raw.length} bytes, at least ${IV_BYTES + TAG_BYTES})`);
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  }

  /** True when the value was sealed with a key other than the active one. */
  needsRotation(keyId: string): boolean {
    return keyId !== this.activeKeyId;
  }
}

/** A one-way lookup hash (SHA-256 hex) for finding rows by a secret without storing it. */
export function lookupHash(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}
