import type { SandboxContext } from '../core/context.ts';
import { opaqueToken } from '../core/ids.ts';
import type { AuthQrCode } from '../core/state.ts';
import { CODE_TTL_MS } from '../api/authorizations.ts';
import { defaultAccount, maskLoginId } from './accounts.ts';

/** What the wallet app did with a scanned code. */
export type ScanOutcome =
  | { kind: 'AUTHORIZED'; code: AuthQrCode; loginId: string }
  | { kind: 'DECLINED'; code: AuthQrCode }
  | { kind: 'GONE'; code: AuthQrCode; reason: 'USED' | 'EXPIRED' }
  | { kind: 'NOT_FOUND' }
  | { kind: 'BAD_ACCOUNT'; code: AuthQrCode };

/** Looks a code up and says whether it can still be used (single use, 15 minutes). */
export function lookupCode(ctx: SandboxContext, codeId: string): ScanOutcome | { kind: 'OPEN'; code: AuthQrCode } {
  const code = ctx.store.state.codes.find((c) => c.codeId === codeId);
  if (!code) return { kind: 'NOT_FOUND' };
  if (code.status !== 'PENDING') return { kind: 'GONE', code, reason: 'USED' };
  if (ctx.clock.now() - code.createdAt >= CODE_TTL_MS) return { kind: 'GONE', code, reason: 'EXPIRED' };
  return { kind: 'OPEN', code };
}

/**
 * The user confirms in the wallet app: the code is used up, an authCode (valid one minute) is
 * minted and AUTHCODE_CREATED goes to the consult's authNotifyUrl.
 */
export function authorizeScan(ctx: SandboxContext, codeId: string, loginId: string | undefined): ScanOutcome {
  const found = lookupCode(ctx, codeId);
  if (found.kind !== 'OPEN') return found;
  const { code } = found;
  const accounts = ctx.store.state.accounts;
  const account = loginId ? accounts.find((a) => a.loginId === loginId && a.wallet === code.wallet) : defaultAccount(accounts, code.wallet);
  if (!account) return { kind: 'BAD_ACCOUNT', code };
  const now = ctx.clock.now();
  code.status = 'AUTHORIZED';
  code.usedAt = now;
  const authCode = opaqueToken(code.wallet === 'ALIPAY_HK' ? 'AHKAC' : 'DNAAC');
  ctx.store.state.authCodes.push({ authCode, codeId, wallet: code.wallet, loginId: account.loginId, issuedAt: now });
  ctx.notifier.enqueue('notifyAuthorization', code.authNotifyUrl, {
    authorizationNotifyType: 'AUTHCODE_CREATED',
    authCode,
    authState: code.authState,
    userLoginId: maskLoginId(account.loginId),
    result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' },
  });
  ctx.store.save();
  return { kind: 'AUTHORIZED', code, loginId: account.loginId };
}

/** The user declines: the code is used up and nothing is sent: Antom notifies only successful authorizations. */
export function declineScan(ctx: SandboxContext, codeId: string): ScanOutcome {
  const found = lookupCode(ctx, codeId);
  if (found.kind !== 'OPEN') return found;
  found.code.status = 'DECLINED';
  found.code.usedAt = ctx.clock.now();
  ctx.store.save();
  return { kind: 'DECLINED', code: found.code };
}
