/** Field names whose values never reach a log. */
const SECRET_KEY =
  /secret|token|password|passwd|signature|assertion|authorization|cookie|credential|codevalue|authcode|privatekey|^x-nonce$|enrollcode|^code$/i;

/** Patterns of secrets inside free text. */
const SECRET_TEXT: ReadonlyArray<[RegExp, string]> = [
  // JWTs (player assertions)
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\b/g, '[jwt]'],
  // header lines and key=value pairs that carry secrets
  [/\b(x-signature|x-player-assertion|x-nonce|authorization|devicesecret|device_secret)(["']?\s*[:=]\s*["']?)[^\s"',;}]+/gi, '$1$2[redacted]'],
  // PEM blocks
  [/-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----/g, '[pem]'],
  // wallet QR payloads and bearer tokens
  [/\bBearer\s+[A-Za-z0-9._~+/-]+=*/gi, 'Bearer [redacted]'],
];

/** Redacts secrets from a string. */
export function redactText(text: string): string {
  let out = text;
  for (const [re, replacement] of SECRET_TEXT) out = out.replace(re, replacement);
  return out;
}

/**
 * A deep copy of `value` with secrets removed: values under secret-looking keys become
 * "[redacted]", strings are scrubbed of JWTs, signatures and PEM blocks, depth and size are
 * bounded. Used by every logger adapter (logging rule: logs never contain secrets).
 */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value.length > 2000 ? `${value.slice(0, 2000)}…` : value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 6) return '[deep]';
  if (value instanceof Error) return { name: value.name, message: redactText(value.message) };
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1);
  return out;
}
