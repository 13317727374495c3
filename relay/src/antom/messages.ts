/**
 * Reading Antom answers into the few fields the relay uses. Antom may add fields at any time,
 * so answers are read leniently (unknown fields ignored); the relay's own inputs are strict.
 */

function str(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** Parses an ISO 8601 time from Antom into epoch ms; undefined when absent or malformed. */
export function parseAntomTime(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The QR content of a consult answer: the TEXT QRCODE code value (the client draws the QR itself). */
export function consultCodeValue(body: Record<string, unknown>): string | undefined {
  const form = body['authCodeForm'] as { codeDetails?: unknown } | undefined;
  const details = Array.isArray(form?.codeDetails) ? (form.codeDetails as Record<string, unknown>[]) : [];
  const qr = details.filter((d) => d && d['codeValueType'] === 'QRCODE' && typeof d['codeValue'] === 'string');
  const text = qr.find((d) => d['displayType'] === 'TEXT') ?? qr[0];
  return text ? (text['codeValue'] as string) : undefined;
}

/** Antom wants applyToken within one minute of the authCode; a little slack for clocks. */
export const AUTH_CODE_WINDOW_MS = 70_000;

/** The tokens of an applyToken answer (no refresh token means a long-lived access token). */
export interface TokenGrant {
  accessToken: string;
  accessTokenExpiresAt: number | undefined;
  refreshToken: string | undefined;
  refreshTokenExpiresAt: number | undefined;
  userLoginId: string | undefined;
}

/** Reads an applyToken success; undefined when the access token is missing. */
export function readTokenGrant(body: Record<string, unknown>): TokenGrant | undefined {
  const accessToken = str(body, 'accessToken');
  if (!accessToken) return undefined;
  const psp = body['pspCustomerInfo'] as Record<string, unknown> | undefined;
  return {
    accessToken,
    accessTokenExpiresAt: parseAntomTime(body['accessTokenExpiryTime']),
    refreshToken: str(body, 'refreshToken'),
    refreshTokenExpiresAt: parseAntomTime(body['refreshTokenExpiryTime']),
    userLoginId: str(body, 'userLoginId') ?? (psp ? str(psp, 'displayCustomerId') : undefined),
  };
}

/** Reads a string field of an Antom answer. */
export function readString(body: Record<string, unknown>, key: string): string | undefined {
  return str(body, key);
}
