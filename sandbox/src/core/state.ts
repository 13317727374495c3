import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WalletId } from '@scan-to-bind/shared/domain';
import { seedAccounts } from '../wallet/accounts.ts';
import { AppendedSince } from './appended.ts';
import { writeFileAtomic } from './files.ts';

/** DANA account tiers (Antom's DANA facts: daily/monthly caps differ for unverified and Premium users). */
export type DanaTier = 'UNVERIFIED' | 'PREMIUM';

/** A wallet account of the simulated wallet app. */
export interface Account {
  loginId: string;
  wallet: WalletId;
  /** Antom-side user id (pspCustomerId). */
  userId: string;
  displayName: string;
  /** Balance in minor units of the wallet currency. */
  balance: number;
  tier?: DanaTier;
  isDefault: boolean;
}

/** A QR code handed out by consult; single use, dead after 15 minutes. */
export interface AuthQrCode {
  codeId: string;
  /** Canonical consult body (an identical retry gets the same code). */
  fingerprint: string;
  wallet: WalletId;
  authState: string;
  scopes: string[];
  authNotifyUrl?: string;
  authRedirectUrl: string;
  createdAt: number;
  status: 'PENDING' | 'AUTHORIZED' | 'DECLINED';
  usedAt?: number;
}

/** An authCode sent in AUTHCODE_CREATED; single use, dead one minute after issue. */
export interface AuthCodeRecord {
  authCode: string;
  codeId: string;
  wallet: WalletId;
  loginId: string;
  issuedAt: number;
  usedAt?: number;
}

/** An access token with its refresh token. */
export interface TokenRecord {
  accessToken: string;
  refreshToken: string;
  wallet: WalletId;
  loginId: string;
  authState: string;
  authNotifyUrl?: string;
  createdAt: number;
  accessExpiresAt: number;
  refreshExpiresAt: number;
  /** ACTIVE; REVOKED (merchant revoke); CANCELED (wallet-side unlink); REPLACED (refreshed). */
  status: 'ACTIVE' | 'REVOKED' | 'CANCELED' | 'REPLACED';
  refreshUsedAt?: number;
  endedAt?: number;
}

/** How a payment that answered U resolves (set by a 'U' fault). */
export interface PendingResolution {
  resolveAs: 'S' | 'F' | 'never';
  inquiriesLeft?: number;
  resolveAt?: number;
  failCode: string;
}

/** A payment as Antom keeps it. */
export interface PaymentRecord {
  paymentId: string;
  paymentRequestId: string;
  /** Canonical JSON of the request body: the idempotency fingerprint. */
  fingerprint: string;
  wallet: WalletId;
  accessToken: string;
  loginId?: string;
  currency: string;
  amount: number;
  referenceOrderId?: string;
  orderDescription?: string;
  paymentNotifyUrl?: string;
  createdAt: number;
  expiresAt: number;
  status: 'SUCCESS' | 'FAIL' | 'PROCESSING' | 'CANCELLED';
  resultCode: string;
  resultMessage: string;
  paidAt?: number;
  cancelledAt?: number;
  pending?: PendingResolution;
}

/** A refund. */
export interface RefundRecord {
  refundId: string;
  refundRequestId: string;
  fingerprint: string;
  paymentId: string;
  currency: string;
  amount: number;
  status: 'SUCCESS' | 'FAIL';
  resultCode: string;
  resultMessage: string;
  createdAt: number;
  refundNotifyUrl?: string;
}

/** A customs declaration request. */
export interface DeclarationRecord {
  declarationRequestId: string;
  fingerprint: string;
  paymentId: string;
  customsPaymentId: string;
  customsOrderId: string;
  customs: { customsCode: string; region: string };
  merchantCustomsInfo: { merchantCustomsCode: string; merchantCustomsName: string };
  declarationAmount: { currency: string; value: string };
  splitOrder: boolean;
  subOrderId?: string;
  identityCheckResult?: string;
  createdAt: number;
}

/** One delivery attempt of a notification. */
export interface DeliveryAttempt {
  at: number;
  httpStatus?: number;
  acknowledged: boolean;
  error?: string;
  responseExcerpt?: string;
}

/** A notification Antom sends to the merchant, with its delivery history. */
export interface NotificationRecord {
  id: string;
  kind: 'notifyAuthorization' | 'notifyPayment' | 'notifyRefund';
  url?: string;
  body: string;
  createdAt: number;
  /** PENDING: will be tried at nextAttemptAt. HELD: withheld or buffered by a fault. */
  status: 'PENDING' | 'HELD' | 'DELIVERED' | 'FAILED' | 'NO_URL';
  nextAttemptAt?: number;
  attempts: DeliveryAttempt[];
  /** Delivery rounds done (a duplicated round sends twice but counts once). */
  rounds: number;
  heldBy?: 'withhold' | 'reorder';
}

/** Settings the admin API may change. */
export interface Settings {
  accessTokenTtlMs: number;
  refreshTokenTtlMs: number;
  paymentDelayMs: number;
}

/** Everything the sandbox persists in `<dataDir>/state.json`. */
export interface SandboxState {
  version: 1;
  clockOffsetMs: number;
  settings: Settings;
  accounts: Account[];
  codes: AuthQrCode[];
  authCodes: AuthCodeRecord[];
  tokens: TokenRecord[];
  payments: PaymentRecord[];
  refunds: RefundRecord[];
  declarations: DeclarationRecord[];
  notifications: NotificationRecord[];
  seq: number;
}

const DAY = 86_400_000;

/** Default settings: access tokens 30 days, refresh tokens 365 days. */
export function defaultSettings(paymentDelayMs = 0): Settings {
  return { accessTokenTtlMs: 30 * DAY, refreshTokenTtlMs: 365 * DAY, paymentDelayMs };
}

/** A freshly seeded state. */
export function seedState(paymentDelayMs = 0): SandboxState {
  return {
    version: 1,
    clockOffsetMs: 0,
    settings: defaultSettings(paymentDelayMs),
    accounts: seedAccounts(),
    codes: [],
    authCodes: [],
    tokens: [],
    payments: [],
    refunds: [],
    declarations: [],
    notifications: [],
    seq: 0,
  };
}

/** Shortest wait between a change and its snapshot. */
const MIN_SNAPSHOT_DELAY_MS = 20;
/** The snapshot waits this many times as long as the last one took (≤ 5 % of the time). */
const SNAPSHOT_BACKOFF = 20;
/** Longest wait between a change and its snapshot. */
const MAX_SNAPSHOT_DELAY_MS = 2_000;

/**
 * Holds the state in memory and writes it to `<dataDir>/state.json` atomically, coalescing
 * writes that follow each other. The state is one JSON document that grows with every payment,
 * so the wait adapts: 20 ms, or 20 × the last snapshot's duration (at most 2 s), so that under
 * load snapshots stay a small share of the sandbox's time and of the disk's (the relay's own
 * fsyncs on the same disk must not queue behind megabytes of snapshots, docs/benchmarks.md).
 * `flush()` (close, admin reset) writes at once.
 */
export class StateStore {
  state: SandboxState;
  readonly #payments = new PaymentIndex();
  readonly #path: string;
  #timer: NodeJS.Timeout | undefined;
  #lastFlushMs = 0;

  constructor(dataDir: string, paymentDelayMs = 0) {
    this.#path = join(dataDir, 'state.json');
    this.state = existsSync(this.#path) ? load(this.#path) : seedState(paymentDelayMs);
    if (!existsSync(this.#path)) this.flush();
  }

  /** The payment with this paymentId, else the one with this paymentRequestId (paymentId wins, as in Antom's inquiry and cancel). */
  payment(q: { paymentId?: string | undefined; paymentRequestId?: string | undefined }): PaymentRecord | undefined {
    return this.#payments.find(this.state.payments, q);
  }

  /** Every payment settled against this wallet account (`loginId` set), whatever its status since. */
  paymentsOf(loginId: string): readonly PaymentRecord[] {
    return this.#payments.of(this.state.payments, loginId);
  }

  /** Marks the state changed; it is written shortly after. */
  save(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => this.flush(), this.snapshotDelayMs);
    this.#timer.unref();
  }

  /** Writes now. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const started = performance.now();
    writeFileAtomic(this.#path, JSON.stringify(this.state));
    this.#lastFlushMs = performance.now() - started;
  }

  /** How long the next snapshot waits after a change (for tests and the admin state view). */
  get snapshotDelayMs(): number {
    return Math.min(MAX_SNAPSHOT_DELAY_MS, Math.max(MIN_SNAPSHOT_DELAY_MS, this.#lastFlushMs * SNAPSHOT_BACKOFF));
  }

  /** A new sequence number (ids). */
  nextSeq(): number {
    this.state.seq += 1;
    return this.state.seq;
  }
}

/**
 * Lookups over the state's payments, which only ever grow: without them each pay scanned every
 * payment made so far twice (idempotency, then the account's debit history), so the sandbox's
 * CPU per pay grew with its history (issue 17: 5.4 → 12.4 ms over 10,000 pays, on the cores the
 * relay shares in the bench). Payments are appended (`state.payments.push`) by the API and
 * `loginId` is written once, when a payment is settled against an account; the index reads
 * whatever was appended (AppendedSince) or settled since its last look, so no writer has to
 * tell it, and starts over when the state is replaced. Ids are never rewritten. Lookups keep
 * the array's semantics: the first payment with an id wins.
 */
class PaymentIndex {
  readonly #byId = new Map<string, PaymentRecord>();
  readonly #byRequestId = new Map<string, PaymentRecord>();
  readonly #byLogin = new Map<string, PaymentRecord[]>();
  readonly #appended = new AppendedSince<PaymentRecord>();
  /** Looked-at payments not yet settled against an account (`loginId` unset): rechecked on each look. */
  readonly #unsettled = new Set<PaymentRecord>();

  find(payments: readonly PaymentRecord[], q: { paymentId?: string | undefined; paymentRequestId?: string | undefined }): PaymentRecord | undefined {
    this.#catchUp(payments);
    if (q.paymentId) return this.#byId.get(q.paymentId);
    return q.paymentRequestId === undefined ? undefined : this.#byRequestId.get(q.paymentRequestId);
  }

  of(payments: readonly PaymentRecord[], loginId: string): readonly PaymentRecord[] {
    this.#catchUp(payments);
    for (const p of this.#unsettled) {
      if (p.loginId !== undefined) this.#settled(p);
      // Settled, or final without an account (FAIL, CANCELLED): no later look can change it.
      else if (p.status === 'PROCESSING') continue;
      this.#unsettled.delete(p);
    }
    return this.#byLogin.get(loginId) ?? [];
  }

  #catchUp(payments: readonly PaymentRecord[]): void {
    this.#appended.read(
      payments,
      (p) => {
        if (!this.#byId.has(p.paymentId)) this.#byId.set(p.paymentId, p);
        if (!this.#byRequestId.has(p.paymentRequestId)) this.#byRequestId.set(p.paymentRequestId, p);
        if (p.loginId === undefined) this.#unsettled.add(p);
        else this.#settled(p);
      },
      () => {
        for (const index of [this.#byId, this.#byRequestId, this.#byLogin, this.#unsettled]) index.clear();
      },
    );
  }

  #settled(p: PaymentRecord): void {
    const list = this.#byLogin.get(p.loginId as string);
    if (list) list.push(p);
    else this.#byLogin.set(p.loginId as string, [p]);
  }
}

function load(path: string): SandboxState {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as SandboxState;
  if (parsed.version !== 1) throw new Error(`unsupported state version in ${path}`);
  return parsed;
}
