import type { KeyObject } from 'node:crypto';
import type { FaultBook } from '../faults/faults.ts';
import type { Notifier } from '../notify/notifier.ts';
import type { SandboxClock } from './clock.ts';
import type { SandboxKeys } from './keys.ts';
import type { StateStore } from './state.ts';

/** One received API request and how it was judged (inspection). */
export interface RequestLogEntry {
  at: number;
  method: string;
  path: string;
  endpoint?: string;
  clientId?: string;
  requestTime?: string;
  /** OK, or why the message was refused before the business rules ran. */
  verification: 'OK' | 'NOT_CHECKED' | 'INVALID_SIGNATURE' | 'KEY_NOT_FOUND' | 'CLIENT_INVALID' | 'BAD_HEADERS' | 'TOO_LARGE' | 'BAD_MEDIA_TYPE';
  resultStatus?: string;
  resultCode?: string;
  fault?: string;
  bodyExcerpt: string;
}

/** Everything the routes share. */
export interface SandboxContext {
  clientId: string;
  dataDir: string;
  store: StateStore;
  clock: SandboxClock;
  keys: SandboxKeys;
  merchantKey: KeyObject;
  notifier: Notifier;
  faults: FaultBook;
  adminToken: string;
  /** paymentDelayMs from the options (restored by reset). */
  defaultPaymentDelayMs: number;
  /** Base of wallet page URLs put into QR codes. */
  publicBaseUrl: string;
  requestLog: RequestLogEntry[];
  /** Release functions of connections held open by 'timeout' faults. */
  holds: Set<() => void>;
}

const LOG_SIZE = 500;

/** Appends to the bounded request log. */
export function logRequest(ctx: SandboxContext, entry: RequestLogEntry): void {
  ctx.requestLog.push(entry);
  if (ctx.requestLog.length > LOG_SIZE) ctx.requestLog.splice(0, ctx.requestLog.length - LOG_SIZE);
}
