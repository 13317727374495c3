import { randomUUID } from 'node:crypto';
import { isCurrencyCode, parseMajor } from '@scan-to-bind/shared/domain';

/** Where the CLI's admin verbs send their calls. */
export interface AdminTarget {
  url: string;
  token: string;
}

/** Output of the CLI (stdout lines) — injectable for tests. */
export type Print = (line: string) => void;

/** The admin verbs the CLI mirrors (each one calls the running relay's admin API). */
export const ADMIN_VERBS = ['payments', 'payment', 'bindings', 'refunds', 'refund', 'deliveries', 'declarations', 'declare', 'devices'] as const;

const ADMIN_USAGE = `Admin verbs (call the running relay's admin API on its admin listener, admin.host:admin.port, default http://127.0.0.1:8788; --url or RELAY_ADMIN_URL to override; token from RELAY_ADMIN_TOKEN or the config):
  payments [--q <id>] [--state S] [--owner O] [--limit N]    payment <intentId>
  bindings [--q <id>] [--state S] [--owner O]                 bindings revoke <bindingId>
  refunds [--purchase <intentId>] [--state S]                 refunds show <refundRequestId>
  refund <intentId> [--amount 5.00] [--id <refundRequestId>] [--reason "…"]   (no --amount = the rest)
  deliveries [--purchase <intentId>] [--state PENDING|DELIVERED|LOCAL]        deliveries retry <eventId>
  declare <intentId> --amount <CNY, e.g. 12.00> --customs-code C --merchant-customs-code M --merchant-customs-name N
          [--id <declarationRequestId>] [--sub-order-id S (sets splitOrder)]
  declarations [--purchase <intentId>]                        declarations inquire <id> [<id>…]
  devices                                                     devices enroll --label L [--kind kiosk|launcher]
  devices disable <deviceId>`;

/** The admin part of the usage text. */
export function adminUsage(): string {
  return ADMIN_USAGE;
}

function query(flags: Map<string, string>, names: Record<string, string>): string {
  const params = new URLSearchParams();
  for (const [flag, param] of Object.entries(names)) {
    const v = flags.get(flag);
    if (v !== undefined) params.set(param, v);
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

async function call(target: AdminTarget, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${target.url.replace(/\/+$/u, '')}${path}`, {
    method,
    headers: { authorization: `Bearer ${target.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** "12.34" (CNY, two decimals) → 1234, without floating point. */
function cnyMinor(text: string): number {
  const m = /^(\d{1,13})(?:\.(\d{1,2}))?$/u.exec(text);
  if (!m) throw new Error(`--amount must look like 12.00, not ${text}`);
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

function need(value: string | undefined, what: string): string {
  if (!value) throw new Error(`missing ${what}\n${ADMIN_USAGE}`);
  return value;
}

/**
 * Runs one admin verb against the relay and prints the JSON answer. Returns the exit code:
 * 0 on a 2xx answer, 1 otherwise (the error body is printed).
 */
export async function runAdminVerb(verb: string, args: string[], flags: Map<string, string>, target: AdminTarget, print: Print): Promise<number> {
  const [sub, ...rest] = args;
  let res: { status: number; body: Record<string, unknown> };
  switch (verb) {
    case 'payments':
      res = await call(target, 'GET', `/admin/v1/payments${query(flags, { q: 'q', state: 'state', owner: 'owner', limit: 'limit' })}`);
      break;
    case 'payment':
      res = await call(target, 'GET', `/admin/v1/payments/${encodeURIComponent(need(sub, 'intentId'))}`);
      break;
    case 'bindings':
      res =
        sub === 'revoke'
          ? await call(target, 'POST', `/admin/v1/bindings/${encodeURIComponent(need(rest[0], 'bindingId'))}/revoke`, {})
          : await call(target, 'GET', `/admin/v1/bindings${query(flags, { q: 'q', state: 'state', owner: 'owner', limit: 'limit' })}`);
      break;
    case 'refunds':
      res =
        sub === 'show'
          ? await call(target, 'GET', `/admin/v1/refunds/${encodeURIComponent(need(rest[0], 'refundRequestId'))}`)
          : await call(target, 'GET', `/admin/v1/refunds${query(flags, { purchase: 'purchaseIntentId', state: 'state', limit: 'limit' })}`);
      break;
    case 'refund': {
      const intentId = need(sub, 'intentId');
      const amountText = flags.get('amount');
      let amount: { currency: string; minor: number } | undefined;
      if (amountText) {
        const payment = await call(target, 'GET', `/admin/v1/payments/${encodeURIComponent(intentId)}`);
        const total = (payment.body['payment'] as { total?: { currency?: string } } | undefined)?.total;
        if (payment.status !== 200 || !total || !isCurrencyCode(total.currency)) {
          print(JSON.stringify(payment.body, null, 2));
          return 1;
        }
        amount = parseMajor(amountText, total.currency);
      }
      const refundRequestId = flags.get('id') ?? `rf_${randomUUID().replace(/-/gu, '')}`;
      const reason = flags.get('reason');
      res = await call(target, 'POST', '/admin/v1/refunds', {
        refundRequestId,
        purchaseIntentId: intentId,
        ...(amount ? { amount } : {}),
        ...(reason ? { reason } : {}),
      });
      break;
    }
    case 'deliveries':
      res =
        sub === 'retry'
          ? await call(target, 'POST', `/admin/v1/deliveries/${encodeURIComponent(need(rest[0], 'eventId'))}/retry`, {})
          : await call(target, 'GET', `/admin/v1/deliveries${query(flags, { purchase: 'purchaseIntentId', state: 'state', limit: 'limit' })}`);
      break;
    case 'declarations':
      res =
        sub === 'inquire'
          ? await call(target, 'POST', '/admin/v1/declarations/inquiry', { declarationRequestIds: rest })
          : await call(target, 'GET', `/admin/v1/declarations${query(flags, { purchase: 'purchaseIntentId', limit: 'limit' })}`);
      break;
    case 'declare': {
      const subOrderId = flags.get('sub-order-id');
      res = await call(target, 'POST', '/admin/v1/declarations', {
        declarationRequestId: flags.get('id') ?? `dc${randomUUID().replace(/-/gu, '').slice(0, 30)}`,
        purchaseIntentId: need(sub, 'intentId'),
        declarationAmount: { currency: 'CNY', minor: cnyMinor(need(flags.get('amount'), '--amount')) },
        customs: { customsCode: need(flags.get('customs-code'), '--customs-code'), region: 'CN' },
        merchantCustomsInfo: {
          merchantCustomsCode: need(flags.get('merchant-customs-code'), '--merchant-customs-code'),
          merchantCustomsName: need(flags.get('merchant-customs-name'), '--merchant-customs-name'),
        },
        splitOrder: subOrderId !== undefined,
        ...(subOrderId ? { subOrderId } : {}),
      });
      break;
    }
    case 'devices':
      res =
        sub === 'enroll'
          ? await call(target, 'POST', '/admin/v1/devices', { label: need(flags.get('label'), '--label'), kind: flags.get('kind') ?? 'kiosk' })
          : sub === 'disable'
            ? await call(target, 'POST', `/admin/v1/devices/${encodeURIComponent(need(rest[0], 'deviceId'))}/disable`, {})
            : await call(target, 'GET', '/admin/v1/devices');
      break;
    default:
      throw new Error(`unknown admin verb ${verb}\n${ADMIN_USAGE}`);
  }
  print(JSON.stringify(res.body, null, 2));
  return res.status >= 200 && res.status < 300 ? 0 : 1;
}
