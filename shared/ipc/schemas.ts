import { z } from 'zod';
import { BINDING_STATES } from '../domain/binding-state.ts';
import { ERROR_CODES } from '../domain/errors.ts';
import { LOCALES } from '../domain/locale.ts';
import { PURCHASE_STATES } from '../domain/purchase-state.ts';
import { WALLET_IDS } from '../domain/wallets.ts';

/*
 * The shapes that cross the IPC bridge. Every object is strict (unknown keys are refused,
 * never dropped), nothing is coerced, and every string has a length bound.
 */

export const WalletIdSchema = z.enum(WALLET_IDS as ['ALIPAY_HK', 'DANA']);
export const CurrencySchema = z.enum(['HKD', 'IDR']);
export const LocaleSchema = z.enum(LOCALES as ['en', 'zh-HK', 'id-ID']);
export const ErrorCodeSchema = z.enum(ERROR_CODES);
export const BindingStateSchema = z.enum(BINDING_STATES);
export const PurchaseStateSchema = z.enum(PURCHASE_STATES);

/** Money as integer minor units; the same rule as shared/domain/money.ts. */
export const MoneySchema = z.strictObject({
  currency: CurrencySchema,
  minor: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
});

/** An opaque id minted by the relay (binding ids): URL-safe, 8–64 characters. */
export const OpaqueIdSchema = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/);
/** A purchase intent id: a UUID minted by main once per purchase. */
export const IntentIdSchema = z.uuid();
/** A catalogue SKU. */
export const SkuSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
/** An item's title in the relay's catalogue. */
export const ItemTitleSchema = z.string().min(1).max(128);
/** How many of an item; the relay applies the same bounds. */
export const QuantitySchema = z.int().min(1).max(99);
/** An instant as ISO 8601 with offset. */
export const InstantSchema = z.iso.datetime({ offset: true });
/** A masked account label as the relay gives it (e.g. "852-****-8812"). */
export const MaskedAccountSchema = z.string().min(1).max(64);

/** One wallet the player may link here. */
export const WalletOptionSchema = z.strictObject({
  wallet: WalletIdSchema,
  displayName: z.string().min(1).max(32),
  country: z.string().length(2),
  currency: CurrencySchema,
});

/** The QR the overlay shows while waiting for the wallet app. */
export const QrCodeSchema = z.strictObject({
  /** The exact text to encode in the QR (Antom's codeValue). */
  codeValue: z.string().min(1).max(2048),
  expiresAt: InstantSchema,
  /** Automatic refreshes left before the player must ask for a new code. */
  refreshesLeft: z.int().min(0).max(10),
});

/** The player's binding as the renderer may see it: never a token, never a full account id. */
export const BindingStatusSchema = z.strictObject({
  state: BindingStateSchema,
  wallet: WalletIdSchema.nullable(),
  maskedAccount: MaskedAccountSchema.nullable(),
  qr: QrCodeSchema.nullable(),
  error: ErrorCodeSchema.nullable(),
});

export const StartBindingInputSchema = z.strictObject({ wallet: WalletIdSchema });

export const QuoteInputSchema = z.strictObject({ sku: SkuSchema, quantity: QuantitySchema });

/** What the purchase dialog shows before Buy; the intent id is minted here, once per purchase. */
export const PurchaseQuoteSchema = z.strictObject({
  purchaseIntentId: IntentIdSchema,
  sku: SkuSchema,
  title: ItemTitleSchema,
  quantity: QuantitySchema,
  unitPrice: MoneySchema,
  total: MoneySchema,
  wallet: WalletIdSchema,
  maskedAccount: MaskedAccountSchema,
  /** A limit that already refuses this purchase, so the UI can say so before Buy. */
  blockedBy: ErrorCodeSchema.nullable(),
});

export const IntentInputSchema = z.strictObject({ purchaseIntentId: IntentIdSchema });

/** A purchase as the renderer sees it. */
export const PurchaseStatusSchema = z.strictObject({
  purchaseIntentId: IntentIdSchema,
  state: PurchaseStateSchema,
  sku: SkuSchema,
  quantity: QuantitySchema,
  total: MoneySchema,
  wallet: WalletIdSchema,
  error: ErrorCodeSchema.nullable(),
  updatedAt: InstantSchema,
});

export const ModeSchema = z.enum(['window', 'overlay', 'kiosk', 'embedded']);

/** Non-secret settings. Mode, kiosk timings and relay URL are the operator's, not the renderer's. */
export const SettingsSchema = z.strictObject({
  locale: LocaleSchema,
  lastWallet: WalletIdSchema.nullable(),
  mode: ModeSchema,
  kiosk: z.strictObject({
    idleSeconds: z.int().min(30).max(3600),
    promptSeconds: z.int().min(5).max(300),
  }),
  relayUrl: z.url({ protocol: /^https?$/ }).max(2048),
});

/** What the renderer may change: only the player's own preferences. */
export const SettingsPatchSchema = z
  .strictObject({
    locale: LocaleSchema.optional(),
    lastWallet: WalletIdSchema.nullable().optional(),
  })
  .refine((p) => Object.keys(p).length > 0, { message: 'empty patch' });

/** The kiosk session as the attract screen and the "Still there?" prompt need it. */
export const KioskStatusSchema = z.strictObject({
  phase: z.enum(['attract', 'active', 'still-there', 'resetting']),
  /** Seconds until the reset while the prompt is up; null otherwise. */
  secondsLeft: z.int().min(0).max(300).nullable(),
});

export const AppInfoSchema = z.strictObject({
  mode: ModeSchema,
  version: z.string().max(32),
  /** The player's region and currency, which filter the wallet picker. */
  region: z.string().length(2).nullable(),
  currency: CurrencySchema.nullable(),
});
