import { isErrorCode } from '@scan-to-bind/shared/domain';
import type { ChaosStack } from './stack.ts';

/*
 * The five invariants checked after every row:
 * 1. at most one debit per purchase intent;
 * 2. every sandbox debit has a relay ledger row with the same amount and final state, and back;
 * 3. fulfilment deliveries == successful payments, each at least once, deduplicated by intent;
 * 4. no token, key, secret or full account id in any log line or client-visible payload;
 * 5. every client call ended in a defined state (a value or a typed error) within its deadline.
 */

/** One client call as the matrix recorded it. */
export interface CallRecord {
  label: string;
  deadlineMs: number;
  ms: number;
  outcome: 'value' | 'typed-error' | 'untyped-error' | 'hung';
  detail?: string;
}

export interface InvariantResult {
  id: 1 | 2 | 3 | 4 | 5;
  ok: boolean;
  detail: string;
}

interface SandboxPayment {
  paymentRequestId: string;
  referenceOrderId?: string;
  status: string;
  amount: number;
  currency: string;
}

const FINAL_RELAY: Record<string, string> = { SUCCESS: 'SUCCEEDED', FAIL: 'FAILED', CANCELLED: 'CANCELLED' };

/** Records client calls with a deadline each (invariant 5). */
export class CallLog {
  readonly calls: CallRecord[] = [];

  /**
   * Runs `fn` with a deadline. A value, or an error carrying a product ErrorCode (`code`) or an
   * HTTP answer with `{error:{code}}`, is a defined end; anything else is recorded as a breach.
   */
  async call<T>(label: string, deadlineMs: number, fn: () => Promise<T>, payloads?: string[]): Promise<T | undefined> {
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<'hung'>((resolve) => {
      timer = setTimeout(() => resolve('hung'), deadlineMs);
    });
    try {
      const v = await Promise.race([fn(), hung]);
      if (v === 'hung') {
        this.calls.push({ label, deadlineMs, ms: Date.now() - started, outcome: 'hung' });
        return undefined;
      }
      payloads?.push(JSON.stringify(v) ?? '');
      const typed = httpOutcome(v);
      this.calls.push({
        label,
        deadlineMs,
        ms: Date.now() - started,
        outcome: typed.ok ? (typed.error ? 'typed-error' : 'value') : 'untyped-error',
        ...(typed.detail ? { detail: typed.detail } : {}),
      });
      return v;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      payloads?.push(String((error as Error).message ?? error));
      this.calls.push({
        label,
        deadlineMs,
        ms: Date.now() - started,
        outcome: isErrorCode(code) ? 'typed-error' : 'untyped-error',
        detail: `${String(code)}: ${String((error as Error).message ?? error).slice(0, 120)}`,
      });
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** An HTTP answer {status, body}: 2xx value, or 4xx/5xx with a typed `{error:{code}}`. */
function httpOutcome(v: unknown): { ok: boolean; error: boolean; detail?: string } {
  if (typeof v !== 'object' || v === null || !('status' in v) || !('body' in v)) return { ok: true, error: false };
  const { status, body } = v as { status: number; body: Record<string, unknown> };
  if (status < 300) return { ok: true, error: false };
  const code = (body['error'] as { code?: unknown } | undefined)?.code;
  if (isErrorCode(code)) return { ok: true, error: true };
  return { ok: false, error: true, detail: `HTTP ${status} ${JSON.stringify(body).slice(0, 120)}` };
}

/** Waits until nothing is in flight: no unsettled purchase, no PROCESSING sandbox payment, no pending delivery. */
export async function settle(stack: ChaosStack, timeoutMs = 20_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const open = await stack.store.db.selectFrom('purchases').select('intent_id').where('state', 'in', ['CREATED', 'SUBMITTED', 'PROCESSING']).execute();
      const outbox = await stack.store.db.selectFrom('fulfilment_outbox').select('event_id').where('state', '=', 'PENDING').execute();
      const sb = await sandboxPayments(stack);
      if (open.length === 0 && outbox.length === 0 && !sb.some((p) => p.status === 'PROCESSING')) return true;
    } catch {
      // a database being restarted: try again
    }
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function sandboxPayments(stack: ChaosStack): Promise<SandboxPayment[]> {
  const state = await stack.admin('GET', '/state');
  return (state.body['payments'] as SandboxPayment[] | undefined) ?? [];
}

/** Strings that must never appear in a log line or a client-visible payload. */
export function forbiddenStrings(stack: ChaosStack): string[] {
  const raw = stack.sandboxRawState();
  const out = new Set<string>(stack.secrets.filter((s) => s.length >= 12));
  for (const t of (raw['tokens'] as Array<{ accessToken?: string; refreshToken?: string }> | undefined) ?? []) {
    if (t.accessToken) out.add(t.accessToken);
    if (t.refreshToken) out.add(t.refreshToken);
  }
  for (const c of (raw['authCodes'] as Array<{ authCode?: string; loginId?: string }> | undefined) ?? []) {
    if (c.authCode) out.add(c.authCode);
  }
  // Full account ids (the relay and the client only ever show them masked).
  for (const a of (raw['accounts'] as Array<{ loginId?: string }> | undefined) ?? []) if (a.loginId) out.add(a.loginId);
  return [...out].filter((s) => s.length >= 8);
}

/** Checks all five invariants. `calls` are the client calls of the row. */
export async function checkInvariants(stack: ChaosStack, calls: CallRecord[], extraPayloads: string[] = []): Promise<InvariantResult[]> {
  const settled = await settle(stack);
  const results: InvariantResult[] = [];
  const sb = await sandboxPayments(stack);
  const rows = await stack.store.db.selectFrom('purchases').selectAll().execute();
  const byRequestId = new Map(rows.map((r) => [r.payment_request_id, r]));

  // 1. at most one debit per purchase intent
  const debits = sb.filter((p) => p.status === 'SUCCESS');
  const perIntent = new Map<string, number>();
  for (const d of debits) {
    const intent = byRequestId.get(d.paymentRequestId)?.intent_id ?? d.referenceOrderId ?? d.paymentRequestId;
    perIntent.set(intent, (perIntent.get(intent) ?? 0) + 1);
  }
  const doubles = [...perIntent].filter(([, n]) => n > 1);
  results.push({
    id: 1,
    ok: doubles.length === 0,
    detail: doubles.length ? `double debits: ${doubles.map(([i, n]) => `${i}×${n}`).join(', ')}` : `${debits.length} debits`,
  });

  // 2. sandbox payments ↔ relay ledger (amount, final state)
  const mismatches: string[] = [];
  if (!settled) mismatches.push('did not settle within 20 s');
  for (const p of sb) {
    const r = byRequestId.get(p.paymentRequestId);
    if (!r) {
      if (p.status === 'SUCCESS') mismatches.push(`sandbox debit ${p.paymentRequestId} has no ledger row`);
      continue;
    }
    if (r.amount_minor !== p.amount || r.currency !== p.currency)
      mismatches.push(`${r.intent_id}: amount ${r.amount_minor} ${r.currency} vs ${p.amount} ${p.currency}`);
    const want = FINAL_RELAY[p.status];
    if (want && r.state !== want) mismatches.push(`${r.intent_id}: relay ${r.state} vs sandbox ${p.status}`);
  }
  const sbIds = new Set(sb.map((p) => p.paymentRequestId));
  for (const r of rows) {
    if (r.state === 'SUCCEEDED' && !sb.some((p) => p.paymentRequestId === r.payment_request_id && p.status === 'SUCCESS')) {
      mismatches.push(`${r.intent_id}: relay SUCCEEDED without a sandbox debit`);
    }
    if (r.state === 'PROCESSING' || r.state === 'SUBMITTED')
      mismatches.push(`${r.intent_id}: still ${r.state}${sbIds.has(r.payment_request_id) ? '' : ' (unknown to the sandbox)'}`);
  }
  results.push({
    id: 2,
    ok: mismatches.length === 0,
    detail: mismatches.slice(0, 5).join('; ') || `${sb.length} sandbox payments, ${rows.length} ledger rows`,
  });

  // 3. deliveries == successful payments (kiosks and launchers both use the webhook here)
  const succeeded = new Set(rows.filter((r) => r.state === 'SUCCEEDED').map((r) => r.intent_id));
  const delivered = new Set(stack.deliveries.map((d) => d.purchaseIntentId));
  const missing = [...succeeded].filter((i) => !delivered.has(i));
  const extra = [...delivered].filter((i) => !succeeded.has(i));
  results.push({
    id: 3,
    ok: missing.length === 0 && extra.length === 0,
    detail:
      missing.length || extra.length
        ? `undelivered ${missing.length}, delivered without success ${extra.length}`
        : `${succeeded.size} delivered (${stack.deliveries.length} deliveries)`,
  });

  // 4. no secret in logs or payloads
  const forbidden = forbiddenStrings(stack);
  const leaks: string[] = [];
  const haystacks = [...stack.logs, ...stack.payloads, ...extraPayloads];
  for (const secret of forbidden) {
    const hit = haystacks.find((h) => h.includes(secret));
    if (hit) leaks.push(`${secret.slice(0, 4)}… in ${hit.slice(0, 100)}`);
  }
  results.push({ id: 4, ok: leaks.length === 0, detail: leaks.slice(0, 3).join('; ') || `${forbidden.length} secrets × ${haystacks.length} lines` });

  // 5. every call ended in a defined state within its deadline
  const bad = calls.filter((c) => c.outcome === 'hung' || c.outcome === 'untyped-error' || c.ms > c.deadlineMs);
  results.push({
    id: 5,
    ok: bad.length === 0,
    detail:
      bad
        .slice(0, 3)
        .map((c) => `${c.label}: ${c.outcome} ${c.detail ?? ''} (${c.ms} ms)`)
        .join('; ') || `${calls.length} calls`,
  });
  return results;
}
