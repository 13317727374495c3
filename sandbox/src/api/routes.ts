import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { logRequest, type SandboxContext } from '../core/context.ts';
import type { ApiFault, Endpoint } from '../faults/faults.ts';
import { applyToken, consult, revoke } from './authorizations.ts';
import { declare, inquiryDeclarations } from './customs.ts';
import { sweepPayments } from './payment-rules.ts';
import { cancel, inquiryPayment, pay } from './payments.ts';
import { sendAntom, verifyMessage } from './pipeline.ts';
import { inquiryRefund, refund } from './refunds.ts';
import { type AntomBody, fail, unknown } from './result.ts';
import {
  ApplyTokenRequest,
  ConsultRequest,
  DeclarationLookup,
  DeclareRequest,
  describeIssue,
  PaymentLookup,
  PayRequest,
  RefundLookup,
  RefundRequest,
  RevokeRequest,
} from './schemas.ts';

/** One API: its path under /v1 and how a validated body is handled. */
interface ApiDef {
  path: string;
  /** The PARAM_ILLEGAL answer when the body does not match the schema. */
  validate(json: Record<string, unknown>): AntomBody | undefined;
  run(ctx: SandboxContext, json: Record<string, unknown>, fault: ApiFault | undefined): AntomBody;
}

function def<S extends z.ZodType>(
  path: string,
  schema: S,
  handle: (ctx: SandboxContext, body: z.infer<S>, raw: Record<string, unknown>, fault: ApiFault | undefined) => AntomBody,
): ApiDef {
  return {
    path,
    validate(json) {
      const parsed = schema.safeParse(json);
      return parsed.success ? undefined : fail('PARAM_ILLEGAL', describeIssue(parsed.error));
    },
    run(ctx, json, fault) {
      const parsed = schema.safeParse(json);
      if (!parsed.success) return fail('PARAM_ILLEGAL', describeIssue(parsed.error));
      return handle(ctx, parsed.data, json, fault);
    },
  };
}

/** The Antom APIs Scan to Bind uses, by path (fixed interface). */
export const APIS: Readonly<Record<Endpoint, ApiDef>> = {
  consult: def('/v1/authorizations/consult', ConsultRequest, (ctx, b, raw) => consult(ctx, b, raw)),
  applyToken: def('/v1/authorizations/applyToken', ApplyTokenRequest, (ctx, b) => applyToken(ctx, b)),
  revoke: def('/v1/authorizations/revoke', RevokeRequest, (ctx, b) => revoke(ctx, b)),
  pay: def('/v1/payments/pay', PayRequest, (ctx, b, raw, fault) => pay(ctx, b, raw, fault)),
  inquiryPayment: def('/v1/payments/inquiryPayment', PaymentLookup, (ctx, b) => inquiryPayment(ctx, b)),
  cancel: def('/v1/payments/cancel', PaymentLookup, (ctx, b) => cancel(ctx, b)),
  refund: def('/v1/payments/refund', RefundRequest, (ctx, b, raw) => refund(ctx, b, raw)),
  inquiryRefund: def('/v1/payments/inquiryRefund', RefundLookup, (ctx, b) => inquiryRefund(ctx, b)),
  declare: def('/v1/customs/declare', DeclareRequest, (ctx, b, raw) => declare(ctx, b, raw)),
  inquiryDeclarationRequests: def('/v1/customs/inquiryDeclarationRequests', DeclarationLookup, (ctx, b) => inquiryDeclarations(ctx, b)),
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Registers every API under `/ams/api` and `/ams/sandbox/api`: Antom's sandbox differs only in the path. */
export function registerApiRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  for (const [endpoint, api] of Object.entries(APIS) as Array<[Endpoint, ApiDef]>) {
    const handler = (req: FastifyRequest, reply: FastifyReply) => handleApi(ctx, endpoint, api, req, reply);
    app.post(`/ams/api${api.path}`, handler);
    app.post(`/ams/sandbox/api${api.path}`, handler);
  }
}

async function handleApi(ctx: SandboxContext, endpoint: Endpoint, api: ApiDef, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const verified = verifyMessage(ctx, endpoint, req, reply);
  if (!verified) return reply;
  const { json, entry, path } = verified;
  sweepPayments(ctx);
  // A request the schema refuses never reaches a fault: faults stand for trouble behind a valid call.
  const invalid = api.validate(json);
  if (invalid) {
    entry.resultStatus = 'F';
    entry.resultCode = invalid.result.resultCode;
    logRequest(ctx, entry);
    return sendAntom(ctx, reply, path, invalid, true);
  }
  const fault = ctx.faults.takeApi(endpoint);
  if (fault) entry.fault = fault.mode;
  const delay = endpoint === 'pay' ? ctx.store.state.settings.paymentDelayMs : 0;
  if (delay > 0) await sleep(delay);
  const processes = fault?.process ?? (fault ? fault.mode === 'timeout' || fault.mode === 'drop' || fault.mode === 'delay' : true);
  let body: AntomBody;
  if (fault?.mode === 'U' && endpoint !== 'pay') {
    if (processes) api.run(ctx, json, undefined);
    body = unknown('UNKNOWN_EXCEPTION', 'unknown exception, retry with the same parameters');
  } else if (processes || fault?.mode === 'U') {
    body = api.run(ctx, json, fault);
  } else {
    body = unknown('UNKNOWN_EXCEPTION', 'not processed');
  }
  entry.resultStatus = body.result.resultStatus;
  entry.resultCode = body.result.resultCode;
  logRequest(ctx, entry);
  if (!fault || fault.mode === 'U') return sendAntom(ctx, reply, path, body, true);
  if (fault.mode === 'delay') {
    await sleep(fault.delayMs ?? 3000);
    return sendAntom(ctx, reply, path, body, true);
  }
  if (fault.mode === '5xx') {
    entry.resultStatus = undefined;
    entry.resultCode = `HTTP ${fault.status ?? 503}`;
    return reply
      .code(fault.status ?? 503)
      .header('content-type', 'text/html')
      .send('<html><body>Service Unavailable</body></html>');
  }
  reply.hijack();
  const socket = req.raw.socket;
  if (fault.mode === 'timeout') {
    await new Promise<void>((resolve) => {
      const release = () => {
        clearTimeout(timer);
        ctx.holds.delete(release);
        resolve();
      };
      const timer = setTimeout(release, fault.delayMs ?? 120_000);
      socket.once('close', release);
      ctx.holds.add(release);
    });
  }
  socket.destroy();
  return reply;
}
