import { describe, expect, it, vi } from 'vitest';
import { createOpenExternal, installNavigationGuards, isAllowedExternalUrl } from '../../../../main/security/navigation-guard.ts';
import { FakeWebContents, fakeNavEvent } from '../../../fakes/fake-electron.ts';

const ALLOW = ['relay.example.com', 'www.alipayhk.com'];

describe('isAllowedExternalUrl', () => {
  it('accepts https on an allowlisted host', () => {
    expect(isAllowedExternalUrl('https://relay.example.com/help', ALLOW)).toBe(true);
    expect(isAllowedExternalUrl('https://RELAY.example.com/', ALLOW)).toBe(true);
  });

  it.each([
    'https://relay.example.com.evil.test/',
    'https://evil-relay.example.com/',
    'https://evil.test/relay.example.com',
    'https://relay.example.com@evil.test/',
    'https://user@relay.example.com/',
    'https://relay.example.com:8443/',
    'http://relay.example.com/',
    'javascript:alert(1)',
    'file:///etc/passwd',
    'app://app/index.html',
    'not a url',
  ])('refuses %s', (url) => {
    expect(isAllowedExternalUrl(url, ALLOW)).toBe(false);
  });
});

describe('createOpenExternal', () => {
  it('opens allowlisted links and refuses the rest', async () => {
    const open = vi.fn(async () => {});
    const openExternal = createOpenExternal(open, ALLOW, () => {});
    expect(await openExternal('https://relay.example.com/')).toBe(true);
    expect(await openExternal('https://relay.example.com.evil.test/')).toBe(false);
    expect(open).toHaveBeenCalledTimes(1);
  });
});

describe('installNavigationGuards', () => {
  function setup(devServerUrl: string | null = null) {
    const wc = new FakeWebContents();
    const openExternal = vi.fn(async () => true);
    const log = vi.fn();
    installNavigationGuards(wc.asElectron(), { devServerUrl, openExternal, log });
    return { wc, openExternal, log };
  }

  it.each(['will-navigate', 'will-frame-navigate', 'will-redirect'])('%s stays inside app://', (event) => {
    const { wc } = setup();
    for (const bad of [
      'https://relay.example.com.evil.test/',
      'javascript:alert(1)',
      'file:///etc/passwd',
      'app://app.evil.test/index.html',
      'http://127.0.0.1:5173/',
    ]) {
      const e = fakeNavEvent(bad);
      wc.emit(event, e);
      expect(e.defaultPrevented, bad).toBe(true);
    }
    const ok = fakeNavEvent('app://app/index.html#/purchase');
    wc.emit(event, ok);
    expect(ok.defaultPrevented).toBe(false);
  });

  it('allows the dev server only when configured', () => {
    const { wc } = setup('http://127.0.0.1:5173');
    const e = fakeNavEvent('http://127.0.0.1:5173/');
    wc.emit('will-navigate', e);
    expect(e.defaultPrevented).toBe(false);
  });

  it('denies every window.open and hands https links to openExternal only', () => {
    const { wc, openExternal } = setup();
    expect(wc.windowOpenHandler?.({ url: 'https://relay.example.com/' })).toEqual({ action: 'deny' });
    expect(wc.windowOpenHandler?.({ url: 'javascript:alert(1)' })).toEqual({ action: 'deny' });
    expect(wc.windowOpenHandler?.({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(wc.windowOpenHandler?.({ url: 'app://app/index.html' })).toEqual({ action: 'deny' });
    expect(openExternal).toHaveBeenCalledTimes(1);
    expect(openExternal).toHaveBeenCalledWith('https://relay.example.com/');
  });

  it('refuses webviews', () => {
    const { wc } = setup();
    const e = fakeNavEvent('');
    wc.emit('will-attach-webview', e);
    expect(e.defaultPrevented).toBe(true);
  });
});
