import { INVOKE_CHANNELS } from '@scan-to-bind/shared/ipc/channels';
import { BRIDGE_HEADER, HOST_CSP } from '../../main/dev/bridge-host.ts';
import { expect, test } from './fixtures.ts';

/*
 * The test host itself: the bridge answers only with the run's secret, the page gets the
 * production CSP with the one documented difference, and window.api has preload's shape.
 */
test('bridge host: secret required (403 without), production CSP but connect-src self, window.api shaped like preload', async ({ launch, request }) => {
  const app = await launch({ scenario: 'bridge-host', locale: 'en' });
  const invoke = `${app.host.url}/__bridge/invoke/${INVOKE_CHANNELS.bindingStatus}`;

  expect((await request.post(invoke, { data: '' })).status()).toBe(403);
  expect((await request.post(invoke, { data: '', headers: { [BRIDGE_HEADER]: 'x'.repeat(43) } })).status()).toBe(403);
  expect((await request.get(`${app.host.url}/__bridge/events`)).status()).toBe(403);
  // The cookie alone is not enough for a page of another origin.
  expect((await request.post(invoke, { data: '', headers: { [BRIDGE_HEADER]: app.host.secret, origin: 'http://evil.test' } })).status()).toBe(403);
  const ok = await request.post(invoke, { data: '', headers: { [BRIDGE_HEADER]: app.host.secret } });
  expect(ok.status()).toBe(200);
  expect(await ok.json()).toEqual({ ok: true, value: { state: 'NONE', wallet: null, maskedAccount: null, qr: null, error: null } });

  const page = await app.open('?view=bind');
  const doc = await request.get(`${app.host.url}/`);
  expect(doc.headers()['content-security-policy']).toBe(HOST_CSP);
  expect(HOST_CSP).toContain("connect-src 'self'");
  expect(HOST_CSP.replace("connect-src 'self'", "connect-src 'none'")).toBe((await import('../../main/security/csp.ts')).PRODUCTION_CSP);
  const shape = await page.evaluate(() => {
    const api = (window as unknown as { api: Record<string, unknown> }).api;
    const off = (api.onBindingChanged as (l: () => void) => unknown)(() => {});
    return { keys: Object.keys(api).sort(), frozen: Object.isFrozen(api), unsubscribe: typeof off, cookie: document.cookie };
  });
  expect(shape.frozen).toBe(true);
  expect(shape.unsubscribe).toBe('function');
  expect(shape.cookie).toBe(''); // HttpOnly: the page cannot read the secret
  expect(shape.keys).toEqual([...Object.keys(INVOKE_CHANNELS), 'onBindingChanged', 'onKioskChanged', 'onPurchaseChanged', 'onSettingsChanged'].sort());
  await expect(page.getByRole('button', { name: 'AlipayHK', exact: true })).toBeVisible();
});
