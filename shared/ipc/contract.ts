import { z } from 'zod';
import type { ErrorCode } from '../domain/errors.ts';
import { EVENT_CHANNELS as EC, INVOKE_CHANNELS as IC, type SubscribeName } from './channels.ts';
import {
  AppInfoSchema,
  BindingStatusSchema,
  ErrorCodeSchema,
  IntentInputSchema,
  KioskStatusSchema,
  PurchaseQuoteSchema,
  PurchaseStatusSchema,
  QuoteInputSchema,
  SettingsPatchSchema,
  SettingsSchema,
  StartBindingInputSchema,
  WalletOptionSchema,
} from './schemas.ts';

export * from './channels.ts';
export * from './schemas.ts';

/**
 * Every request the renderer can make of main: channel name (`domain:action`), input schema,
 * output schema. Preload builds `window.api` from this object; main registers handlers from it;
 * nothing else names a channel.
 */
export const invokes = {
  appInfo: { channel: IC.appInfo, input: z.void(), output: AppInfoSchema },
  listWallets: { channel: IC.listWallets, input: z.void(), output: z.array(WalletOptionSchema).max(8) },
  startBinding: { channel: IC.startBinding, input: StartBindingInputSchema, output: BindingStatusSchema },
  refreshBindingCode: { channel: IC.refreshBindingCode, input: z.void(), output: BindingStatusSchema },
  cancelBinding: { channel: IC.cancelBinding, input: z.void(), output: BindingStatusSchema },
  bindingStatus: { channel: IC.bindingStatus, input: z.void(), output: BindingStatusSchema },
  unbind: { channel: IC.unbind, input: z.void(), output: BindingStatusSchema },
  copyBindingLink: { channel: IC.copyBindingLink, input: z.void(), output: z.boolean() },
  quotePurchase: { channel: IC.quotePurchase, input: QuoteInputSchema, output: PurchaseQuoteSchema },
  confirmPurchase: { channel: IC.confirmPurchase, input: IntentInputSchema, output: PurchaseStatusSchema },
  purchaseStatus: { channel: IC.purchaseStatus, input: IntentInputSchema, output: PurchaseStatusSchema },
  pendingPurchases: { channel: IC.pendingPurchases, input: z.void(), output: z.array(PurchaseStatusSchema).max(100) },
  getSettings: { channel: IC.getSettings, input: z.void(), output: SettingsSchema },
  setSettings: { channel: IC.setSettings, input: SettingsPatchSchema, output: SettingsSchema },
  kioskStillHere: { channel: IC.kioskStillHere, input: z.void(), output: KioskStatusSchema },
  kioskEndSession: { channel: IC.kioskEndSession, input: z.void(), output: KioskStatusSchema },
} as const satisfies Record<keyof typeof IC, { channel: string; input: z.ZodType; output: z.ZodType }>;

/** Every push from main to the renderer. */
export const events = {
  bindingChanged: { channel: EC.bindingChanged, payload: BindingStatusSchema },
  purchaseChanged: { channel: EC.purchaseChanged, payload: PurchaseStatusSchema },
  settingsChanged: { channel: EC.settingsChanged, payload: SettingsSchema },
  kioskChanged: { channel: EC.kioskChanged, payload: KioskStatusSchema },
} as const satisfies Record<keyof typeof EC, { channel: string; payload: z.ZodType }>;

type Invokes = typeof invokes;
type Events = typeof events;
export type InvokeName = keyof Invokes;
export type EventName = keyof Events;

/** The input a caller passes (before validation). */
export type InvokeInput<K extends InvokeName> = z.input<Invokes[K]['input']>;
/** The input a handler receives (after validation). */
export type HandlerInput<K extends InvokeName> = z.output<Invokes[K]['input']>;
export type InvokeOutput<K extends InvokeName> = z.output<Invokes[K]['output']>;
export type EventPayload<K extends EventName> = z.output<Events[K]['payload']>;

/** What every invoke resolves to: errors cross the bridge as codes, never as thrown objects. */
export type IpcResult<T> = { ok: true; value: T } | { ok: false; code: ErrorCode };

/** The schema of an invoke's result envelope, for checking what main sends back. */
export function resultSchema<T extends z.ZodType>(output: T) {
  return z.discriminatedUnion('ok', [z.strictObject({ ok: z.literal(true), value: output }), z.strictObject({ ok: z.literal(false), code: ErrorCodeSchema })]);
}

type InvokeFn<K extends InvokeName> = [InvokeInput<K>] extends [undefined]
  ? () => Promise<IpcResult<InvokeOutput<K>>>
  : (input: InvokeInput<K>) => Promise<IpcResult<InvokeOutput<K>>>;

/** `api.startBinding({ wallet })` and friends. */
export type InvokeFns = { [K in InvokeName]: InvokeFn<K> };

/** `api.onBindingChanged(cb)` returns the function that unsubscribes. */
export type SubscribeFns = {
  [K in EventName as SubscribeName<K>]: (listener: (payload: EventPayload<K>) => void) => () => void;
};

/** The whole bridge the renderer sees as `window.api`. */
export type Api = InvokeFns & SubscribeFns;

/** What main implements: validated input in, output out (or a DomainError thrown). */
export type Handlers = {
  [K in InvokeName]: (input: HandlerInput<K>) => Promise<InvokeOutput<K>> | InvokeOutput<K>;
};

/** Validates untrusted input for an invoke; invalid input yields INVALID_INPUT and no value. */
export function parseInvokeInput<K extends InvokeName>(name: K, raw: unknown): { ok: true; value: HandlerInput<K> } | { ok: false; code: 'INVALID_INPUT' } {
  const parsed = invokes[name].input.safeParse(raw);
  return parsed.success ? { ok: true, value: parsed.data as HandlerInput<K> } : { ok: false, code: 'INVALID_INPUT' };
}

/** Validates an outgoing value for an invoke (main checks its own answers before sending). */
export function parseInvokeOutput<K extends InvokeName>(name: K, value: unknown): InvokeOutput<K> | undefined {
  const parsed = invokes[name].output.safeParse(value);
  return parsed.success ? (parsed.data as InvokeOutput<K>) : undefined;
}

/** Validates an event payload before it is pushed. */
export function parseEventPayload<K extends EventName>(name: K, payload: unknown): EventPayload<K> | undefined {
  const parsed = events[name].payload.safeParse(payload);
  return parsed.success ? (parsed.data as EventPayload<K>) : undefined;
}
