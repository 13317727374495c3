import type { SandboxContext } from '../core/context.ts';
import { maskSecret } from '../core/ids.ts';

/**
 * Everything worth looking at, with secrets masked: accounts, codes, tokens, payments, refunds,
 * declarations, notifications with their delivery attempts, received requests with their
 * verification result, queued faults and the clock.
 */
export function inspect(ctx: SandboxContext): Record<string, unknown> {
  const { state } = ctx.store;
  return {
    now: new Date(ctx.clock.now()).toISOString(),
    clockOffsetMs: ctx.clock.offsetMs,
    clientId: ctx.clientId,
    settings: state.settings,
    accounts: state.accounts,
    codes: state.codes.map(({ fingerprint: _f, ...c }) => c),
    authCodes: state.authCodes.map((c) => ({ ...c, authCode: maskSecret(c.authCode) })),
    tokens: state.tokens.map((t) => ({
      ...t,
      accessToken: maskSecret(t.accessToken),
      refreshToken: maskSecret(t.refreshToken),
      accessExpiresAt: new Date(t.accessExpiresAt).toISOString(),
      refreshExpiresAt: new Date(t.refreshExpiresAt).toISOString(),
    })),
    payments: state.payments.map(({ fingerprint: _f, ...p }) => ({ ...p, accessToken: maskSecret(p.accessToken) })),
    refunds: state.refunds.map(({ fingerprint: _f, ...r }) => r),
    declarations: state.declarations.map(({ fingerprint: _f, ...d }) => d),
    notifications: state.notifications.map((n) => ({ ...n, body: maskBody(n.body) })),
    requests: ctx.requestLog,
    faults: ctx.faults.list(),
  };
}

function maskBody(body: string): unknown {
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    for (const key of ['authCode', 'accessToken']) {
      const v = parsed[key];
      if (typeof v === 'string') parsed[key] = maskSecret(v);
    }
    return parsed;
  } catch {
    return body;
  }
}
