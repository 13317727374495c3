import type { IpcMainInvokeEvent } from 'electron';
import { DomainError, ERROR_CODES } from '@scan-to-bind/shared/domain';
import { type Handlers, invokes } from '@scan-to-bind/shared/ipc';
import { describe, expect, it, vi } from 'vitest';
import { createHandle, errorCodeOf, ForbiddenSenderError, registerHandlers } from '../../../../main/ipc/handle.ts';
import { isTrustedSender } from '../../../../main/security/sender-check.ts';
import { TrustedWindows } from '../../../../main/security/trusted-windows.ts';
import { FakeWebContents, fakeInvokeEvent } from '../../../fakes/fake-electron.ts';

type Listener = (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<unknown>;

function setup() {
  const registered = new Map<string, Listener>();
  const ipcMain = {
    handle: (channel: string, l: Listener) => registered.set(channel, l),
    removeHandler: (channel: string) => registered.delete(channel),
  };
  const trusted = new TrustedWindows();
  const ours = new FakeWebContents();
  trusted.add(ours.id);
  const onActivity = vi.fn();
  const handle = createHandle({
    ipcMain,
    isTrustedSender: (e) => isTrustedSender(e, trusted, {}),
    log: () => {},
    onActivity,
  });
  const call = (channel: string, event: IpcMainInvokeEvent, ...args: unknown[]) => {
    const l = registered.get(channel);
    if (!l) throw new Error(`no handler for ${channel}`);
    return l(event, ...args);
  };
  return { handle, registered, ours, call, onActivity };
}

const ok = () => ({ state: 'NONE', wallet: null, maskedAccount: null, qr: null, error: null }) as const;

describe('handle()', () => {
  it('calls the service with validated input and wraps the answer', async () => {
    const { handle, ours, call } = setup();
    const impl = vi.fn(async () => ok());
    handle('startBinding', impl);
    const result = await call('binding:start', fakeInvokeEvent({ contents: ours }), { wallet: 'DANA' });
    expect(impl).toHaveBeenCalledWith({ wallet: 'DANA' });
    expect(result).toEqual({ ok: true, value: ok() });
  });

  it.each([
    [undefined],
    [null],
    [{ wallet: 'PAYPAL' }],
    [{ wallet: 'DANA', extra: 1 }],
    [{ wallet: 'DANA', __proto__: { polluted: true } }],
    ['DANA'],
    [{ wallet: ['DANA'] }],
  ])('refuses invalid input %j before any service runs', async (input) => {
    const { handle, ours, call, onActivity } = setup();
    const impl = vi.fn(async () => ok());
    handle('startBinding', impl);
    const result = await call('binding:start', fakeInvokeEvent({ contents: ours }), input);
    expect(result).toEqual({ ok: false, code: 'INVALID_INPUT' });
    expect(impl).not.toHaveBeenCalled();
    expect(onActivity).not.toHaveBeenCalled();
  });

  it('refuses extra arguments and input to a void invoke', async () => {
    const { handle, ours, call } = setup();
    const impl = vi.fn(async () => ok());
    handle('bindingStatus', impl);
    expect(await call('binding:status', fakeInvokeEvent({ contents: ours }), { x: 1 })).toEqual({
      ok: false,
      code: 'INVALID_INPUT',
    });
    expect(await call('binding:status', fakeInvokeEvent({ contents: ours }), undefined, 2)).toEqual({
      ok: false,
      code: 'INVALID_INPUT',
    });
    expect(impl).not.toHaveBeenCalled();
  });

  it('refuses quotes with bad SKUs, quantities and intent ids', async () => {
    const { handle, ours, call } = setup();
    const impl = vi.fn();
    handle('quotePurchase', impl);
    handle('confirmPurchase', impl);
    const e = fakeInvokeEvent({ contents: ours });
    for (const bad of [
      { sku: '../x', quantity: 1 },
      { sku: 'gem', quantity: 0 },
      { sku: 'gem', quantity: 1.5 },
      { sku: 'gem', quantity: '1' },
    ]) {
      expect(await call('purchase:quote', e, bad)).toEqual({ ok: false, code: 'INVALID_INPUT' });
    }
    expect(await call('purchase:confirm', e, { purchaseIntentId: 'not-a-uuid' })).toEqual({ ok: false, code: 'INVALID_INPUT' });
    expect(impl).not.toHaveBeenCalled();
  });

  it('refuses the renderer changing operator settings (mode, relay URL)', async () => {
    const { handle, ours, call } = setup();
    const impl = vi.fn();
    handle('setSettings', impl);
    const e = fakeInvokeEvent({ contents: ours });
    expect(await call('settings:set', e, { relayUrl: 'https://evil.test' })).toEqual({ ok: false, code: 'INVALID_INPUT' });
    expect(await call('settings:set', e, { mode: 'kiosk' })).toEqual({ ok: false, code: 'INVALID_INPUT' });
    expect(await call('settings:set', e, {})).toEqual({ ok: false, code: 'INVALID_INPUT' });
    expect(impl).not.toHaveBeenCalled();
  });

  it.each([
    ['a sub-frame', { subFrame: true }],
    ['a foreign origin', { frameUrl: 'https://evil.test/' }],
    ['a look-alike origin', { frameUrl: 'app://app.evil.test/index.html' }],
    ['a file: page', { frameUrl: 'file:///tmp/a.html' }],
    ['a destroyed frame', { frameGone: true }],
  ])('refuses %s before parsing or calling the service', async (_label, opts) => {
    const { handle, ours, call } = setup();
    const impl = vi.fn(async () => ok());
    handle('startBinding', impl);
    await expect(call('binding:start', fakeInvokeEvent({ contents: ours, ...opts }), { wallet: 'DANA' })).rejects.toBeInstanceOf(ForbiddenSenderError);
    expect(impl).not.toHaveBeenCalled();
  });

  it('refuses a window main did not create', async () => {
    const { handle, call } = setup();
    const impl = vi.fn(async () => ok());
    handle('startBinding', impl);
    const foreign = new FakeWebContents();
    await expect(call('binding:start', fakeInvokeEvent({ contents: foreign }), { wallet: 'DANA' })).rejects.toThrow();
    expect(impl).not.toHaveBeenCalled();
  });

  it('returns codes, never thrown errors', async () => {
    const { handle, ours, call } = setup();
    handle('startBinding', async () => {
      throw new DomainError('KEYCHAIN_LOCKED');
    });
    handle('bindingStatus', async () => {
      throw new Error('secret detail');
    });
    const e = fakeInvokeEvent({ contents: ours });
    expect(await call('binding:start', e, { wallet: 'DANA' })).toEqual({ ok: false, code: 'KEYCHAIN_LOCKED' });
    expect(await call('binding:status', e, undefined)).toEqual({ ok: false, code: 'INTERNAL' });
  });

  it('checks main’s own answer against the output schema', async () => {
    const { handle, ours, call } = setup();
    handle('bindingStatus', async () => ({ ...ok(), token: 'leak' }) as never);
    expect(await call('binding:status', fakeInvokeEvent({ contents: ours }), undefined)).toEqual({ ok: false, code: 'INTERNAL' });
  });

  it('maps error codes from any error object', () => {
    expect(errorCodeOf({ code: 'OFFLINE' })).toBe('OFFLINE');
    expect(errorCodeOf({ code: 'ENOTFOUND' })).toBe('INTERNAL');
    expect(errorCodeOf(null)).toBe('INTERNAL');
    expect(ERROR_CODES).toContain(errorCodeOf(new DomainError('TIMEOUT')));
  });

  it('registerHandlers registers exactly one handler per contract channel', () => {
    const { handle, registered } = setup();
    const handlers = Object.fromEntries(Object.keys(invokes).map((k) => [k, vi.fn()])) as unknown as Handlers;
    registerHandlers(handle, handlers);
    expect([...registered.keys()].sort()).toEqual(
      Object.values(invokes)
        .map((i) => i.channel)
        .sort(),
    );
  });
});
