import { ACCOUNTS, expect, test } from './fixtures.ts';

/*
 * S1 (en): the QR expires while the player is scanning it. The relay renews the code (the
 * renewal is the relay's alone: one consult for the expiry, none from the PC); the phone then
 * authorizes the OLD code (a late authorization): the relay revokes that token and no binding
 * comes of it. The player scans the new code and ends with exactly one.
 */
test('S1 QR expires while scanning: a late authorization of the old code never yields a second binding', async ({ launch }) => {
  const app = await launch({ scenario: 's01-qr-expires', locale: 'en' });
  const page = await app.open('?view=bind');
  await page.getByRole('button', { name: 'AlipayHK', exact: true }).click();
  const oldCode = await app.readQr(page, 'qr-first');
  const consults = async () => (await app.sandbox()).requests.filter((r) => r.endpoint === 'consult').length;
  expect(await consults()).toBe(1);

  // The player fumbles with the phone for 15 minutes (relay clock; the PC's clock follows it).
  app.stack.clock.advance(15 * 60_000 + 1_000);
  const newCode = await app.readQr(page, 'qr-renewed', oldCode);
  expect(newCode).not.toBe(oldCode);
  await expect(page.getByRole('heading', { name: 'Scan with AlipayHK' })).toBeVisible();
  expect(await app.bindings()).toHaveLength(1);

  // The phone finally authorizes the code it scanned before: too late.
  const late = await app.phone(oldCode, 'authorize', { account: ACCOUNTS.hk, shot: 'phone-old-code' });
  await app.shot(late, 'phone-late-authorized');
  await expect
    .poll(async () => (await app.sandbox()).tokens.filter((t) => t.loginId === ACCOUNTS.hk).map((t) => t.status), { timeout: 15_000 })
    .toEqual([expect.not.stringMatching(/^ACTIVE$/)]);
  await expect(page.getByRole('heading', { name: 'Scan with AlipayHK' })).toBeVisible();
  expect((await app.bindings()).filter((b) => b.state === 'ACTIVE')).toHaveLength(0);

  // The fresh code links.
  await app.phone(newCode, 'authorize', { account: ACCOUNTS.hk });
  await expect(page.getByTestId('linked')).toHaveText('Linked: AlipayHK ••••8812', { timeout: 15_000 });
  await app.shot(page, 'linked');

  const bindings = await app.bindings();
  expect(bindings.filter((b) => b.state === 'ACTIVE')).toHaveLength(1);
  await expect.poll(async () => (await app.sandbox()).tokens.filter((t) => t.loginId === ACCOUNTS.hk && t.status === 'ACTIVE').length).toBe(1);
  // One expiry, one consult: the first code and its one renewal.
  expect(await consults()).toBe(2);
  expect(await app.ledger()).toEqual([]);
  expect(await app.balance(ACCOUNTS.hk)).toBe(1_000_000);
});
