import { z } from 'zod';

/** The API endpoints faults can target (fixed interface). */
export const ENDPOINTS = [
  'consult',
  'applyToken',
  'revoke',
  'pay',
  'inquiryPayment',
  'cancel',
  'refund',
  'inquiryRefund',
  'declare',
  'inquiryDeclarationRequests',
] as const;
/** An endpoint name. */
export type Endpoint = (typeof ENDPOINTS)[number];

/** POST /__admin/faults body. */
export const ApiFaultInput = z.strictObject({
  endpoint: z.enum(ENDPOINTS),
  mode: z.enum(['U', 'timeout', '5xx', 'drop', 'delay']),
  count: z.number().int().min(1).max(10_000),
  delayMs: z.number().int().min(0).max(600_000).optional(),
  /** 'U' on pay: how the PROCESSING payment ends (default S). */
  resolveAs: z.enum(['S', 'F', 'never']).optional(),
  /** 'U' on pay: resolve after this many inquiries (default 1, or none when resolveAfterMs is set). */
  resolveAfterInquiries: z.number().int().min(1).max(1000).optional(),
  /** 'U' on pay: resolve this long (sandbox clock) after the request. */
  resolveAfterMs: z.number().int().min(0).max(3_600_000).optional(),
  /** 'U' on pay with resolveAs F: the result code (default PROCESS_FAIL). */
  failCode: z
    .string()
    .regex(/^[A-Z_]{1,64}$/)
    .optional(),
  /**
   * Whether the request is processed behind the fault. Defaults: timeout, drop and delay
   * process it (the merchant must inquire to learn the outcome); 5xx and U do not.
   */
  process: z.boolean().optional(),
  /** 5xx: the HTTP status (default 503). */
  status: z.number().int().min(500).max(599).optional(),
});
/** An API fault as configured. */
export type ApiFault = z.infer<typeof ApiFaultInput> & { remaining: number; id: number };

/** POST /__admin/notifications/faults body. */
export const NotifyFaultInput = z.strictObject({
  mode: z.enum(['duplicate', 'reorder', 'delay', 'withhold']),
  count: z.number().int().min(1).max(10_000),
  delayMs: z.number().int().min(0).max(86_400_000).optional(),
});
/** A notification fault as configured. */
export type NotifyFault = z.infer<typeof NotifyFaultInput> & { remaining: number; id: number };

/** Faults waiting to hit the next calls or notifications (in memory; cleared by reset). */
export class FaultBook {
  #api: ApiFault[] = [];
  #notify: NotifyFault[] = [];
  #seq = 0;

  /** Queues an API fault for the next `count` calls of the endpoint. */
  addApi(input: z.infer<typeof ApiFaultInput>): ApiFault {
    const fault: ApiFault = { ...input, remaining: input.count, id: ++this.#seq };
    this.#api.push(fault);
    return fault;
  }

  /** Queues a notification fault for the next `count` notifications. */
  addNotify(input: z.infer<typeof NotifyFaultInput>): NotifyFault {
    const fault: NotifyFault = { ...input, remaining: input.count, id: ++this.#seq };
    this.#notify.push(fault);
    return fault;
  }

  /** Takes one use of the oldest fault on the endpoint, if any. */
  takeApi(endpoint: Endpoint): ApiFault | undefined {
    const fault = this.#api.find((f) => f.endpoint === endpoint && f.remaining > 0);
    if (!fault) return undefined;
    fault.remaining -= 1;
    this.#api = this.#api.filter((f) => f.remaining > 0);
    return fault;
  }

  /** Takes one use of the oldest notification fault, if any. */
  takeNotify(): NotifyFault | undefined {
    const fault = this.#notify.find((f) => f.remaining > 0);
    if (!fault) return undefined;
    fault.remaining -= 1;
    this.#notify = this.#notify.filter((f) => f.remaining > 0);
    return fault;
  }

  /** Removes every fault. */
  clear(): void {
    this.#api = [];
    this.#notify = [];
  }

  /** What is queued (inspection). */
  list(): { api: ApiFault[]; notifications: NotifyFault[] } {
    return { api: this.#api.map((f) => ({ ...f })), notifications: this.#notify.map((f) => ({ ...f })) };
  }
}
