import { randomUUID } from 'node:crypto';
import keytar from 'keytar';
import { afterAll, describe, expect, it } from 'vitest';
import { keychainPart } from '../../support/real-parts.ts';

// The real OS keychain (gnome-keyring over D-Bus in CI), through keytar: no fake.
const keychain = keychainPart();
const service = `scan-to-bind-test-${randomUUID()}`;

describe.skipIf(!keychain.available)('keytar against the real keychain', () => {
  afterAll(async () => {
    for (const { account } of await keytar.findCredentials(service)) await keytar.deletePassword(service, account);
  });

  it('stores, reads, lists and deletes a secret', async () => {
    await keytar.setPassword(service, 'device', 'secret-one');
    await keytar.setPassword(service, 'player:42', 'binding-ref-42');

    expect(await keytar.getPassword(service, 'device')).toBe('secret-one');
    const listed = await keytar.findCredentials(service);
    expect(listed.map((c) => c.account).sort()).toEqual(['device', 'player:42']);
    expect(listed.find((c) => c.account === 'player:42')?.password).toBe('binding-ref-42');

    expect(await keytar.deletePassword(service, 'device')).toBe(true);
    expect(await keytar.getPassword(service, 'device')).toBeNull();
    expect(await keytar.deletePassword(service, 'device')).toBe(false);
    expect((await keytar.findCredentials(service)).map((c) => c.account)).toEqual(['player:42']);
  });

  it('overwrites a secret in place and keeps unicode intact', async () => {
    await keytar.setPassword(service, 'device', 'v1');
    await keytar.setPassword(service, 'device', 'v2 — 錢包 ✓');
    expect(await keytar.getPassword(service, 'device')).toBe('v2 — 錢包 ✓');
  });
});
