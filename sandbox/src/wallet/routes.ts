import { type Locale, resolveLocale } from '@scan-to-bind/shared/domain';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxContext } from '../core/context.ts';
import { rawBodyOf } from '../core/raw-body.ts';
import { authorizeScan, declineScan, lookupCode, type ScanOutcome } from './authorize.ts';
import { WALLET_COPY } from './copy.ts';
import { consentPage, resultPage } from './pages.ts';

const CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** The page language: `?lang=`, else the browser's first Accept-Language, else English. */
export function pickLocale(req: FastifyRequest): Locale {
  const q = (req.query as Record<string, unknown> | undefined)?.['lang'];
  if (typeof q === 'string' && q !== '') return resolveLocale(q);
  const accept = req.headers['accept-language'];
  const first = typeof accept === 'string' ? accept.split(',')[0]?.split(';')[0] : undefined;
  return resolveLocale(first);
}

function wantsJson(req: FastifyRequest): boolean {
  const accept = req.headers.accept;
  return typeof accept === 'string' && accept.includes('application/json');
}

/** `account` from a form or JSON body; undefined when absent or unreadable. */
function accountField(req: FastifyRequest): string | undefined {
  const { raw } = rawBodyOf(req.body);
  if (raw.length === 0) return undefined;
  const text = raw.toString('utf8');
  const type = typeof req.headers['content-type'] === 'string' ? req.headers['content-type'] : '';
  if (type.includes('application/json')) {
    try {
      const parsed: unknown = JSON.parse(text);
      const v = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)['account'] : undefined;
      return typeof v === 'string' && v !== '' ? v : undefined;
    } catch {
      return undefined;
    }
  }
  return new URLSearchParams(text).get('account') || undefined;
}

function statusOf(outcome: ScanOutcome): number {
  switch (outcome.kind) {
    case 'GONE':
      return 410;
    case 'NOT_FOUND':
      return 404;
    case 'BAD_ACCOUNT':
      return 400;
    default:
      return 200;
  }
}

function answer(req: FastifyRequest, reply: FastifyReply, outcome: ScanOutcome): FastifyReply {
  const status = statusOf(outcome);
  if (wantsJson(req)) {
    const body: Record<string, unknown> = { status: outcome.kind };
    if (outcome.kind === 'GONE') body['reason'] = outcome.reason;
    if (outcome.kind === 'AUTHORIZED') body['loginId'] = outcome.loginId;
    return reply.code(status).header('cache-control', 'no-store').send(body);
  }
  const locale = pickLocale(req);
  const copy = WALLET_COPY[locale];
  const code = outcome.kind === 'NOT_FOUND' ? undefined : outcome.code;
  const html =
    outcome.kind === 'AUTHORIZED'
      ? resultPage(locale, code, 'ok', copy.authorized, copy.authorizedHint)
      : outcome.kind === 'DECLINED'
        ? resultPage(locale, code, 'declined', copy.declined, copy.declinedHint)
        : outcome.kind === 'GONE'
          ? resultPage(locale, code, 'gone', copy.gone, copy.goneHint)
          : outcome.kind === 'BAD_ACCOUNT'
            ? resultPage(locale, code, 'warning', copy.badAccount, copy.goneHint)
            : resultPage(locale, code, 'warning', copy.notFound, copy.goneHint);
  return sendHtml(reply.code(status), html);
}

/** Sends a page with the wallet pages' security headers (no scripts, no framing, no caching). */
export function sendHtml(reply: FastifyReply, html: string): FastifyReply {
  return reply
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', CSP)
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .send(html);
}

/** The pages the QR opens on the phone (the wallet app stand-in). */
export function registerWalletRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  app.get<{ Params: { codeId: string } }>('/wallet/scan/:codeId', (req, reply) => {
    const found = lookupCode(ctx, req.params.codeId);
    if (found.kind !== 'OPEN') return answer(req, reply, found);
    if (wantsJson(req)) return reply.header('cache-control', 'no-store').send({ status: 'OPEN', wallet: found.code.wallet, scopes: found.code.scopes });
    return sendHtml(reply, consentPage(pickLocale(req), found.code, ctx.store.state.accounts));
  });
  app.post<{ Params: { codeId: string } }>('/wallet/scan/:codeId/authorize', (req, reply) =>
    answer(req, reply, authorizeScan(ctx, req.params.codeId, accountField(req))),
  );
  app.post<{ Params: { codeId: string } }>('/wallet/scan/:codeId/decline', (req, reply) => answer(req, reply, declineScan(ctx, req.params.codeId)));
}
