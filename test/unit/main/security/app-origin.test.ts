import { describe, expect, it } from 'vitest';
import { APP_ENTRY, appUrlFor, isAppUrl } from '../../../../main/security/app-origin.ts';

describe('isAppUrl', () => {
  it('accepts our own pages', () => {
    expect(isAppUrl('app://app/index.html')).toBe(true);
    expect(isAppUrl('app://app/index.html#/overlay')).toBe(true);
  });

  it.each([
    'app://app.evil.test/index.html',
    'app://evil/index.html',
    'app://app@evil.test/index.html',
    'app://user:pw@app/index.html',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'data:text/html,<script>1</script>',
    'https://app/index.html',
    'http://127.0.0.1:5173/',
    'not a url',
    '',
  ])('refuses %s', (url) => {
    expect(isAppUrl(url)).toBe(false);
  });

  it('accepts the dev server only when given, and only its exact origin', () => {
    const policy = { devServerUrl: 'http://127.0.0.1:5173' };
    expect(isAppUrl('http://127.0.0.1:5173/src/main.ts', policy)).toBe(true);
    expect(isAppUrl('http://127.0.0.1:51730/', policy)).toBe(false);
    expect(isAppUrl('http://127.0.0.1.evil.test:5173/', policy)).toBe(false);
    expect(isAppUrl('https://127.0.0.1:5173/', policy)).toBe(false);
  });

  it('builds hash routes on the app entry', () => {
    expect(appUrlFor('#/overlay')).toBe(`${APP_ENTRY}#/overlay`);
    expect(appUrlFor('kiosk')).toBe(`${APP_ENTRY}#/kiosk`);
    expect(appUrlFor('#/', { devServerUrl: 'http://127.0.0.1:5173' })).toBe('http://127.0.0.1:5173/#/');
  });
});
