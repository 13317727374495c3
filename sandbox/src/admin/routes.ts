import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { WALLET_CURRENCY } from '../api/antom-rules.ts';
import { cancelFromWallet } from '../api/authorizations.ts';
import { sweepPayments } from '../api/payment-rules.ts';
import type { SandboxContext } from '../core/context.ts';
import { isLoopback } from '../core/net.ts';
import { safeEqual } from '../core/ids.ts';
import { rawBodyOf } from '../core/raw-body.ts';
import { seedState } from '../core/state.ts';
import { ApiFaultInput, NotifyFaultInput } from '../faults/faults.ts';
import { findReport, writeReports } from '../reports/reports.ts';
import { inspect } from './inspect.ts';

const TokenMatch = z
  .strictObject({
    accessToken: z.string().min(1).optional(),
    loginId: z.string().min(1).optional(),
    reason: z.string().max(256).optional(),
    refresh: z.boolean().optional(),
  })
  .refine((v) => Boolean(v.accessToken || v.loginId), 'accessToken or loginId is required');
const BalanceInput = z.strictObject({
  loginId: z.string().min(1),
  balance: z.strictObject({ currency: z.string(), value: z.string().regex(/^\d{1,16}$/) }),
});
const ClockInput = z.strictObject({
  advanceMs: z
    .number()
    .int()
    .min(0)
    .max(10 * 365 * 86_400_000),
});
const ReportInput = z.strictObject({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/) });
const SettingsInput = z.strictObject({
  accessTokenTtlMs: z.number().int().min(1000).optional(),
  refreshTokenTtlMs: z.number().int().min(1000).optional(),
  paymentDelayMs: z.number().int().min(0).max(60_000).optional(),
});

function parseBody<S extends z.ZodType>(req: FastifyRequest, schema: S): { ok: true; data: z.infer<S> } | { ok: false; error: string } {
  const { raw } = rawBodyOf(req.body);
  let json: unknown = {};
  if (raw.length > 0) {
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      return { ok: false, error: 'body is not valid JSON' };
    }
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, error: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') };
  return { ok: true, data: parsed.data };
}

/**
 * The admin API under /__admin: loopback only, `Authorization: Bearer <adminToken>`, JSON.
 * Faults, wallet-side token events, balances, the clock, reports, inspection and reset.
 */
export function registerAdminRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  app.register(
    async (admin) => {
      admin.addHook('onRequest', async (req, reply) => {
        if (!isLoopback(req.socket.remoteAddress)) return reply.code(403).send({ error: 'the admin API answers loopback clients only' });
        const auth = req.headers.authorization;
        if (typeof auth !== 'string' || !auth.startsWith('Bearer ') || !safeEqual(auth.slice(7), ctx.adminToken)) {
          return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'missing or wrong admin token' });
        }
        return undefined;
      });
      const bad = (reply: FastifyReply, error: string) => reply.code(400).send({ error });

      admin.post('/faults', (req, reply) => {
        const b = parseBody(req, ApiFaultInput);
        return b.ok ? reply.send({ fault: ctx.faults.addApi(b.data) }) : bad(reply, b.error);
      });
      admin.delete('/faults', (_req, reply) => {
        ctx.faults.clear();
        ctx.notifier.resetFaults();
        return reply.send({ ok: true });
      });
      admin.post('/notifications/faults', (req, reply) => {
        const b = parseBody(req, NotifyFaultInput);
        return b.ok ? reply.send({ fault: ctx.faults.addNotify(b.data) }) : bad(reply, b.error);
      });
      admin.post('/notifications/release', (_req, reply) => reply.send({ released: ctx.notifier.release() }));
      admin.post('/tokens/revoke', (req, reply) => {
        const b = parseBody(req, TokenMatch);
        if (!b.ok) return bad(reply, b.error);
        const hits = cancelFromWallet(ctx, b.data, b.data.reason);
        return hits.length > 0 ? reply.send({ canceled: hits.length }) : reply.code(404).send({ error: 'no active token matches' });
      });
      admin.post('/tokens/expire', (req, reply) => {
        const b = parseBody(req, TokenMatch);
        if (!b.ok) return bad(reply, b.error);
        const now = ctx.clock.now();
        const hits = ctx.store.state.tokens.filter(
          (t) => t.status === 'ACTIVE' && (t.accessToken === b.data.accessToken || (b.data.loginId !== undefined && t.loginId === b.data.loginId)),
        );
        for (const t of hits) {
          t.accessExpiresAt = Math.min(t.accessExpiresAt, now);
          if (b.data.refresh) t.refreshExpiresAt = Math.min(t.refreshExpiresAt, now);
        }
        ctx.store.save();
        return hits.length > 0 ? reply.send({ expired: hits.length }) : reply.code(404).send({ error: 'no active token matches' });
      });
      admin.post('/accounts/balance', (req, reply) => {
        const b = parseBody(req, BalanceInput);
        if (!b.ok) return bad(reply, b.error);
        const account = ctx.store.state.accounts.find((a) => a.loginId === b.data.loginId);
        if (!account) return reply.code(404).send({ error: 'unknown loginId' });
        const currency = WALLET_CURRENCY[account.wallet];
        if (b.data.balance.currency !== currency) return bad(reply, `balance.currency must be ${currency}`);
        account.balance = Number(b.data.balance.value);
        ctx.store.save();
        return reply.send({ loginId: account.loginId, balance: { currency, value: String(account.balance) } });
      });
      admin.post('/clock', (req, reply) => {
        const b = parseBody(req, ClockInput);
        if (!b.ok) return bad(reply, b.error);
        ctx.clock.advance(b.data.advanceMs);
        ctx.store.state.clockOffsetMs = ctx.clock.offsetMs;
        ctx.store.save();
        sweepPayments(ctx);
        ctx.notifier.pump();
        return reply.send({ now: new Date(ctx.clock.now()).toISOString(), offsetMs: ctx.clock.offsetMs });
      });
      admin.post('/settings', (req, reply) => {
        const b = parseBody(req, SettingsInput);
        if (!b.ok) return bad(reply, b.error);
        Object.assign(ctx.store.state.settings, Object.fromEntries(Object.entries(b.data).filter(([, v]) => v !== undefined)));
        ctx.store.save();
        return reply.send({ settings: ctx.store.state.settings });
      });
      admin.get('/state', (_req, reply) => {
        sweepPayments(ctx);
        return reply.send(inspect(ctx));
      });
      admin.post('/reports', (req, reply) => {
        const b = parseBody(req, ReportInput);
        if (!b.ok) return bad(reply, b.error);
        sweepPayments(ctx);
        try {
          return reply.send({ files: writeReports(ctx.dataDir, ctx.clientId, ctx.store.state, b.data.date) });
        } catch (err) {
          return bad(reply, err instanceof Error ? err.message : 'invalid date');
        }
      });
      admin.get<{ Params: { file: string } }>('/reports/:file', (req, reply) => {
        const path = findReport(ctx.dataDir, req.params.file);
        if (!path) return reply.code(404).send({ error: 'no such report' });
        return reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${req.params.file}"`)
          .send(readFileSync(path));
      });
      admin.post('/reset', (_req, reply) => {
        const paymentDelayMs = ctx.defaultPaymentDelayMs;
        ctx.faults.clear();
        ctx.notifier.resetFaults();
        ctx.clock.reset();
        ctx.store.state = seedState(paymentDelayMs);
        ctx.store.flush();
        ctx.requestLog.length = 0;
        return reply.send({ ok: true });
      });
    },
    { prefix: '/__admin' },
  );
}
