import { randomBytes } from 'node:crypto';
import { isWalletId, type WalletId } from '@scan-to-bind/shared/domain';
import { isoWithOffset } from '../core/clock.ts';
import type { SandboxContext } from '../core/context.ts';
import { opaqueToken } from '../core/ids.ts';
import type { TokenRecord } from '../core/state.ts';
import { maskLoginId } from '../wallet/accounts.ts';
import { type AntomBody, canonicalJson, fail, ok } from './result.ts';
import type { ApplyTokenRequest, ConsultRequest, RevokeRequest } from './schemas.ts';
import type { z } from 'zod';

/**
 * A consult code lives 15 minutes. Antom only says to treat an attempt as failed after 15
 * minutes without a notification (whether the code itself expires is an open question); the
 * safe reading is a hard expiry.
 */
export const CODE_TTL_MS = 15 * 60_000;
/** An authCode must be exchanged within one minute of issue (Antom's applyToken rule). */
export const AUTH_CODE_TTL_MS = 60_000;

/** consult: validates the Scan to Link request and hands out a single-use wallet-page QR value. */
export function consult(ctx: SandboxContext, body: z.infer<typeof ConsultRequest>, raw: unknown): AntomBody {
  if (!isWalletId(body.customerBelongsTo)) return fail('PARAM_ILLEGAL', 'customerBelongsTo: only ALIPAY_HK and DANA support Scan to Bind here');
  // Scan to Link: scopes fixed to AGREEMENT_PAY and terminalType fixed to WEB.
  if (!body.scopes.includes('AGREEMENT_PAY')) return fail('PARAM_ILLEGAL', 'scopes: AGREEMENT_PAY is required for Scan to Bind');
  if (body.env.terminalType !== 'WEB') return fail('PARAM_ILLEGAL', 'env.terminalType: must be WEB for Scan to Bind');
  if (body.terminalType !== undefined && body.terminalType !== 'WEB') return fail('PARAM_ILLEGAL', 'terminalType: must be WEB for Scan to Bind');
  const fingerprint = canonicalJson(raw);
  const { state } = ctx.store;
  const existing = state.codes.find((c) => c.authState === body.authState);
  if (existing) {
    // authState must be unique per consult (Antom's consult rule). An identical retry (after a timeout)
    // gets the same code back; anything else is refused.
    if (existing.fingerprint !== fingerprint) return fail('REPEAT_REQ_INCONSISTENT', 'authState was already used with different parameters');
    return consultResponse(ctx, existing.codeId);
  }
  const codeId = randomBytes(16).toString('hex');
  state.codes.push({
    codeId,
    fingerprint,
    wallet: body.customerBelongsTo,
    authState: body.authState,
    scopes: body.scopes,
    authNotifyUrl: body.authNotifyUrl,
    authRedirectUrl: body.authRedirectUrl,
    createdAt: ctx.clock.now(),
    status: 'PENDING',
  });
  ctx.store.save();
  return consultResponse(ctx, codeId);
}

function consultResponse(ctx: SandboxContext, codeId: string): AntomBody {
  const codeValue = `${ctx.publicBaseUrl}/wallet/scan/${codeId}`;
  return ok({ authCodeForm: { codeDetails: [{ codeValueType: 'QRCODE', displayType: 'TEXT', codeValue }] } });
}

/**
 * applyToken. Result codes for a bad authCode or refresh token are not confirmed by Antom's
 * docs (an open question); the sandbox uses INVALID_CODE / USED_CODE / EXPIRED_CODE and
 * INVALID_REFRESH_TOKEN / USED_REFRESH_TOKEN / EXPIRED_REFRESH_TOKEN, all F.
 */
export function applyToken(ctx: SandboxContext, body: z.infer<typeof ApplyTokenRequest>): AntomBody {
  if (!isWalletId(body.customerBelongsTo)) return fail('PARAM_ILLEGAL', 'customerBelongsTo: not supported');
  const now = ctx.clock.now();
  const { state } = ctx.store;
  if (body.grantType === 'AUTHORIZATION_CODE') {
    if (!body.authCode) return fail('PARAM_ILLEGAL', 'authCode: required for AUTHORIZATION_CODE');
    const code = state.authCodes.find((c) => c.authCode === body.authCode);
    if (!code || code.wallet !== body.customerBelongsTo) return fail('INVALID_CODE', 'the authorization code is invalid');
    if (code.usedAt !== undefined) return fail('USED_CODE', 'the authorization code has been used');
    if (now - code.issuedAt > AUTH_CODE_TTL_MS) return fail('EXPIRED_CODE', 'the authorization code has expired');
    code.usedAt = now;
    const qr = state.codes.find((c) => c.codeId === code.codeId);
    const token = issueToken(ctx, code.wallet, code.loginId, qr?.authState ?? '', qr?.authNotifyUrl, now, undefined);
    ctx.store.save();
    return tokenResponse(ctx, token);
  }
  if (body.grantType === 'REFRESH_TOKEN') {
    if (!body.refreshToken) return fail('PARAM_ILLEGAL', 'refreshToken: required for REFRESH_TOKEN');
    const old = state.tokens.find((t) => t.refreshToken === body.refreshToken);
    if (!old || old.wallet !== body.customerBelongsTo || old.status === 'REVOKED' || old.status === 'CANCELED') {
      return fail('INVALID_REFRESH_TOKEN', 'the refresh token is invalid');
    }
    if (old.refreshUsedAt !== undefined) return fail('USED_REFRESH_TOKEN', 'the refresh token has been used');
    if (now >= old.refreshExpiresAt) return fail('EXPIRED_REFRESH_TOKEN', 'the refresh token has expired');
    // Safe reading: a refresh rotates both tokens; the old access token stops working and the
    // binding's refresh deadline does not move.
    old.refreshUsedAt = now;
    old.status = 'REPLACED';
    old.endedAt = now;
    const token = issueToken(ctx, old.wallet, old.loginId, old.authState, old.authNotifyUrl, now, old.refreshExpiresAt);
    ctx.store.save();
    return tokenResponse(ctx, token);
  }
  return fail('PARAM_ILLEGAL', 'grantType: must be AUTHORIZATION_CODE or REFRESH_TOKEN');
}

function issueToken(
  ctx: SandboxContext,
  wallet: WalletId,
  loginId: string,
  authState: string,
  authNotifyUrl: string | undefined,
  now: number,
  refreshExpiresAt: number | undefined,
): TokenRecord {
  const { settings } = ctx.store.state;
  const prefix = wallet === 'ALIPAY_HK' ? 'AHK' : 'DNA';
  const token: TokenRecord = {
    accessToken: opaqueToken(`${prefix}AT`),
    refreshToken: opaqueToken(`${prefix}RT`),
    wallet,
    loginId,
    authState,
    authNotifyUrl,
    createdAt: now,
    accessExpiresAt: now + settings.accessTokenTtlMs,
    refreshExpiresAt: refreshExpiresAt ?? now + settings.refreshTokenTtlMs,
    status: 'ACTIVE',
  };
  ctx.store.state.tokens.push(token);
  return token;
}

function tokenResponse(ctx: SandboxContext, t: TokenRecord): AntomBody {
  const account = ctx.store.state.accounts.find((a) => a.loginId === t.loginId);
  return ok({
    accessToken: t.accessToken,
    accessTokenExpiryTime: isoWithOffset(t.accessExpiresAt),
    refreshToken: t.refreshToken,
    refreshTokenExpiryTime: isoWithOffset(t.refreshExpiresAt),
    userLoginId: maskLoginId(t.loginId),
    pspCustomerInfo: {
      pspName: t.wallet === 'ALIPAY_HK' ? 'ALIPAY_HK' : 'DANA',
      pspCustomerId: account?.userId,
      displayCustomerId: maskLoginId(t.loginId),
    },
  });
}

/**
 * revoke: after S the token is invalid. A retry for a token already ended answers S again
 * (retry-safe: Antom says to retry an unknown revoke with the same token); an unknown token is INVALID_ACCESS_TOKEN. No TOKEN_CANCELED is sent
 * for a merchant-side revoke; only wallet-side unlinks notify (fixed interface).
 */
export function revoke(ctx: SandboxContext, body: z.infer<typeof RevokeRequest>): AntomBody {
  const token = ctx.store.state.tokens.find((t) => t.accessToken === body.accessToken);
  if (!token) return fail('INVALID_ACCESS_TOKEN', 'the access token does not exist');
  if (token.status === 'ACTIVE') {
    token.status = 'REVOKED';
    token.endedAt = ctx.clock.now();
    ctx.store.save();
  }
  return ok();
}

/** Why a token cannot debit, or undefined when it can. */
export function tokenProblem(ctx: SandboxContext, accessToken: string, wallet: WalletId): string | undefined {
  const token = ctx.store.state.tokens.find((t) => t.accessToken === accessToken);
  if (!token || token.wallet !== wallet) return 'the access token does not exist';
  if (token.status === 'REVOKED' || token.status === 'CANCELED') return 'the access token has been revoked';
  if (token.status === 'REPLACED') return 'the access token was replaced by a refresh';
  if (ctx.clock.now() >= token.accessExpiresAt) return 'the access token has expired';
  return undefined;
}

/**
 * Wallet-side unlink (admin API): ends the matching active tokens and sends TOKEN_CANCELED to
 * the authNotifyUrl of the consult that created each one.
 */
export function cancelFromWallet(ctx: SandboxContext, match: { accessToken?: string; loginId?: string }, reason?: string): TokenRecord[] {
  const now = ctx.clock.now();
  const hits = ctx.store.state.tokens.filter(
    (t) => t.status === 'ACTIVE' && (t.accessToken === match.accessToken || (match.loginId !== undefined && t.loginId === match.loginId)),
  );
  for (const t of hits) {
    t.status = 'CANCELED';
    t.endedAt = now;
    ctx.notifier.enqueue('notifyAuthorization', t.authNotifyUrl, {
      authorizationNotifyType: 'TOKEN_CANCELED',
      accessToken: t.accessToken,
      userLoginId: maskLoginId(t.loginId),
      ...(reason ? { reason } : {}),
      result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' },
    });
  }
  ctx.store.save();
  return hits;
}
