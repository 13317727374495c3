import { describe, expect, it } from 'vitest';
import {
  EVENT_CHANNELS,
  events,
  INVOKE_CHANNELS,
  invokes,
  parseEventPayload,
  parseInvokeInput,
  parseInvokeOutput,
  resultSchema,
  subscribeName,
} from '../../../../shared/ipc/contract.ts';

const intent = '3f1c2b9e-8d7a-4c6b-9e5f-1a2b3c4d5e6f';
const status = {
  state: 'ACTIVE',
  wallet: 'DANA',
  maskedAccount: '62-***-4321',
  qr: null,
  error: null,
};

describe('IPC contract: channels', () => {
  it('names every channel domain:action, once', () => {
    const all = [...Object.values(INVOKE_CHANNELS), ...Object.values(EVENT_CHANNELS)];
    expect(new Set(all).size).toBe(all.length);
    for (const c of all) expect(c).toMatch(/^[a-z]+:[a-z-]+$/);
  });

  it('pairs the schema-free channel list with the schemas, both ways', () => {
    expect(Object.keys(invokes).sort()).toEqual(Object.keys(INVOKE_CHANNELS).sort());
    expect(Object.keys(events).sort()).toEqual(Object.keys(EVENT_CHANNELS).sort());
    for (const [name, def] of Object.entries(invokes)) {
      expect(def.channel).toBe(INVOKE_CHANNELS[name as keyof typeof INVOKE_CHANNELS]);
    }
  });

  it('covers the invokes and events the product needs', () => {
    expect(Object.keys(invokes)).toEqual(
      expect.arrayContaining([
        'listWallets',
        'startBinding',
        'cancelBinding',
        'bindingStatus',
        'unbind',
        'quotePurchase',
        'confirmPurchase',
        'purchaseStatus',
        'pendingPurchases',
        'getSettings',
        'setSettings',
      ]),
    );
    expect(Object.keys(events)).toEqual(expect.arrayContaining(['bindingChanged', 'purchaseChanged']));
    expect(subscribeName('bindingChanged')).toBe('onBindingChanged');
  });
});

describe('IPC contract: input validation', () => {
  it('accepts well-formed input', () => {
    expect(parseInvokeInput('startBinding', { wallet: 'DANA' })).toEqual({ ok: true, value: { wallet: 'DANA' } });
    expect(parseInvokeInput('quotePurchase', { sku: 'gems.100', quantity: 2 })).toEqual({
      ok: true,
      value: { sku: 'gems.100', quantity: 2 },
    });
    expect(parseInvokeInput('confirmPurchase', { purchaseIntentId: intent }).ok).toBe(true);
    expect(parseInvokeInput('bindingStatus', undefined).ok).toBe(true);
    expect(parseInvokeInput('setSettings', { locale: 'zh-HK' }).ok).toBe(true);
  });

  it.each([
    ['unknown wallet', 'startBinding', { wallet: 'ALIPAY_CN' }],
    ['extra field', 'startBinding', { wallet: 'DANA', amount: 1 }],
    ['missing field', 'startBinding', {}],
    ['array instead of object', 'startBinding', ['DANA']],
    ['quantity as string (no coercion)', 'quotePurchase', { sku: 'gems.100', quantity: '2' }],
    ['quantity zero', 'quotePurchase', { sku: 'gems.100', quantity: 0 }],
    ['quantity fractional', 'quotePurchase', { sku: 'gems.100', quantity: 1.5 }],
    ['quantity too large', 'quotePurchase', { sku: 'gems.100', quantity: 100 }],
    ['client-sent price', 'quotePurchase', { sku: 'gems.100', quantity: 1, price: { currency: 'HKD', minor: 1 } }],
    ['sku with a path', 'quotePurchase', { sku: '../etc/passwd', quantity: 1 }],
    ['sku too long', 'quotePurchase', { sku: 'a'.repeat(65), quantity: 1 }],
    ['sku with control characters', 'quotePurchase', { sku: 'gems\u0000', quantity: 1 }],
    ['intent id not a uuid', 'confirmPurchase', { purchaseIntentId: 'click-1' }],
    ['amount smuggled into confirm', 'confirmPurchase', { purchaseIntentId: intent, total: 1 }],
    ['argument to a void call', 'bindingStatus', { everything: true }],
    ['relay URL from the renderer', 'setSettings', { relayUrl: 'https://evil.test' }],
    ['mode from the renderer', 'setSettings', { mode: 'window' }],
    ['empty settings patch', 'setSettings', {}],
    ['unsupported locale', 'setSettings', { locale: 'zh-CN' }],
    ['prototype pollution', 'startBinding', JSON.parse('{"wallet":"DANA","__proto__":{"x":1}}')],
  ] as const)('refuses %s', (_label, name, input) => {
    expect(parseInvokeInput(name, input)).toEqual({ ok: false, code: 'INVALID_INPUT' });
  });
});

describe('IPC contract: outputs and events', () => {
  it('never lets a token or full account reach the renderer', () => {
    expect(parseEventPayload('bindingChanged', status)).toEqual(status);
    expect(parseEventPayload('bindingChanged', { ...status, accessToken: 'tok' })).toBeUndefined();
    expect(parseInvokeOutput('bindingStatus', { ...status, bindingId: 'b-123456789' })).toBeUndefined();
  });

  it('checks money in purchase statuses as integer minor units', () => {
    const p = {
      purchaseIntentId: intent,
      state: 'SUCCEEDED',
      sku: 'gems.100',
      quantity: 1,
      total: { currency: 'HKD', minor: 1200 },
      wallet: 'ALIPAY_HK',
      error: null,
      updatedAt: '2026-11-25T10:00:00+08:00',
    };
    expect(parseEventPayload('purchaseChanged', p)).toEqual(p);
    expect(parseEventPayload('purchaseChanged', { ...p, total: { currency: 'HKD', minor: 12.5 } })).toBeUndefined();
    expect(parseEventPayload('purchaseChanged', { ...p, total: { currency: 'USD', minor: 1 } })).toBeUndefined();
    expect(parseEventPayload('purchaseChanged', { ...p, state: 'SCANNED' })).toBeUndefined();
  });

  it('wraps results as ok/value or ok/code with a known code', () => {
    const schema = resultSchema(invokes.bindingStatus.output);
    expect(schema.safeParse({ ok: true, value: status }).success).toBe(true);
    expect(schema.safeParse({ ok: false, code: 'KEYCHAIN_LOCKED' }).success).toBe(true);
    expect(schema.safeParse({ ok: false, code: 'Error: stack trace…' }).success).toBe(false);
    expect(schema.safeParse({ ok: false, code: 'KEYCHAIN_LOCKED', message: 'x' }).success).toBe(false);
  });
});
