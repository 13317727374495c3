import { describe, expect, it } from 'vitest';
import { BindingService } from '../../../../main/services/binding-service.ts';
import { Vault } from '../../../../main/services/vault.ts';
import { FakeClock } from '../../../fakes/fake-clock.ts';
import { FakeRelay } from '../../../fakes/fake-relay.ts';
import { MemoryLogger, MemorySecretStore } from '../../../fakes/memory-stores.ts';

function setup(visit?: { id: string }) {
  const clock = new FakeClock();
  const relay = new FakeRelay();
  relay.now = () => clock.now();
  const secrets = new MemorySecretStore();
  const vault = new Vault(secrets);
  const wallets: string[] = [];
  const svc = new BindingService({
    relay,
    vault,
    clock,
    log: new MemoryLogger(),
    playerKey: async () => 'player-1',
    rememberWallet: (w) => wallets.push(w),
    ...(visit ? { visit: () => visit.id } : {}),
  });
  return { clock, relay, secrets, vault, svc, wallets };
}

describe('BindingService on a kiosk (visits, issue 14)', () => {
  const V1 = '11111111-1111-4111-8111-111111111111';
  const V2 = '22222222-2222-4222-8222-222222222222';

  it('starts bindings for the current visit and ignores statuses of any other visit', async () => {
    const visit = { id: V1 };
    const { svc, relay } = setup(visit);
    await svc.start('ALIPAY_HK');
    expect(relay.calls).toContain(`createBinding ALIPAY_HK ${V1}`);
    const id = svc.bindingId as string;
    svc.apply({ ...relay.authorise(id), visitId: V2 });
    expect(svc.status().state).toBe('QR_SHOWN');
    svc.apply({ ...relay.authorise(id), visitId: undefined });
    expect(svc.status().state).toBe('QR_SHOWN');
    svc.apply(relay.authorise(id));
    expect(svc.status().state).toBe('ACTIVE');
    // The visit rotated: a late event about the old visit's binding changes nothing.
    visit.id = V2;
    await svc.forgetVisit();
    svc.apply({ ...relay.authorise(id), version: 99 });
    expect(svc.status()).toMatchObject({ state: 'NONE', qr: null });
  });

  it('forgets the binding and the vault reference at once without calling the relay', async () => {
    const { svc, relay, vault } = setup({ id: V1 });
    await svc.start('ALIPAY_HK');
    svc.apply(relay.authorise(svc.bindingId as string));
    const before = relay.calls.length;
    const done = svc.forgetVisit();
    expect(svc.status().state).toBe('NONE'); // synchronously, before the keychain answers
    await done;
    expect(await vault.bindingRef('player-1')).toBeNull();
    expect(relay.calls).toHaveLength(before);
    expect(() => svc.active()).toThrow(/BINDING_NOT_FOUND/);
  });

  it('restore asks the relay for the current visit’s binding only, never the vault’s older reference', async () => {
    const { svc, relay, vault } = setup({ id: V2 });
    const old = await relay.createBinding('ALIPAY_HK', V1);
    relay.authorise(old.bindingId);
    await vault.setBindingRef('player-1', old.bindingId);
    expect((await svc.restore()).state).toBe('NONE');
    expect(relay.calls).toContain(`currentBinding ${V2}`);
    expect(relay.calls).not.toContain(`getBinding ${old.bindingId}`);
    expect(await vault.bindingRef('player-1')).toBeNull();
  });
});

describe('BindingService', () => {
  it('shows a QR at once and stores only the opaque binding reference in the vault', async () => {
    const { svc, vault, wallets } = setup();
    const s = await svc.start('ALIPAY_HK');
    expect(s.state).toBe('QR_SHOWN');
    expect(s.qr?.codeValue).toMatch(/^https:\/\/wallet\.example\/qr\//);
    expect(s.qr?.refreshesLeft).toBe(2);
    expect(await vault.bindingRef('player-1')).toBe(svc.bindingId);
    expect(wallets).toEqual(['ALIPAY_HK']);
  });

  it('becomes ACTIVE from the relay status and then can pay', async () => {
    const { svc, relay } = setup();
    await svc.start('ALIPAY_HK');
    svc.apply(relay.authorise(svc.bindingId!));
    expect(svc.status()).toMatchObject({ state: 'ACTIVE', wallet: 'ALIPAY_HK', maskedAccount: '852-****-8812', qr: null });
    expect(svc.active().bindingId).toBe(svc.bindingId);
  });

  it('ignores stale versions and other bindings', async () => {
    const { svc, relay } = setup();
    await svc.start('DANA');
    const id = svc.bindingId!;
    const active = relay.authorise(id);
    svc.apply(active);
    svc.apply({ ...active, state: 'QR_SHOWN', version: 1 });
    expect(svc.status().state).toBe('ACTIVE');
    svc.apply({ ...active, bindingId: '0d0d0d0d-0000-4000-8000-000000000099', state: 'REVOKED', version: 99 });
    expect(svc.status().state).toBe('ACTIVE');
  });

  it('a late relay status of a withdrawn or unlinked binding does not bring it back (regression: kiosk reset left FAILED/REVOKED)', async () => {
    const { svc, relay } = setup();
    await svc.start('ALIPAY_HK');
    const shown = svc.bindingId!;
    await svc.cancel();
    svc.apply({
      bindingId: shown,
      state: 'FAILED',
      wallet: 'ALIPAY_HK',
      version: 50,
      refreshesLeft: 0,
      error: { code: 'BINDING_FAILED', message: 'withdrawn' },
    });
    expect(svc.status().state).toBe('NONE');
    expect(svc.bindingId).toBeNull();
    await svc.start('ALIPAY_HK');
    const id = svc.bindingId!;
    const active = relay.authorise(id);
    svc.apply(active);
    await svc.unbind();
    svc.apply({ ...active, state: 'REVOKED', version: 99 });
    expect(svc.status().state).toBe('NONE');
    expect(() => svc.active()).toThrow(/BINDING_NOT_FOUND/);
  });

  it('makes no relay call when a code expires: the relay’s renewals and its end arrive as statuses', async () => {
    const { svc, relay, clock } = setup();
    await svc.start('DANA');
    const id = svc.bindingId as string;
    const before = relay.calls.length;
    await clock.advance(60_000);
    expect(relay.calls.slice(before)).toEqual([]);
    expect(svc.status().state).toBe('QR_SHOWN');
    svc.apply(relay.expireCode(id));
    expect(svc.status().qr?.refreshesLeft).toBe(1);
    await clock.advance(60_000);
    svc.apply(relay.expireCode(id));
    expect(svc.status().qr?.refreshesLeft).toBe(0);
    // The last code runs out: shown dead at once, before the relay says so.
    await clock.advance(60_000);
    expect(svc.status()).toMatchObject({ state: 'EXPIRED', qr: null, error: 'QR_REFRESH_LIMIT' });
    svc.apply(relay.expireCode(id));
    expect(svc.status()).toMatchObject({ state: 'EXPIRED', qr: null, error: 'QR_REFRESH_LIMIT' });
    await clock.advance(3_600_000);
    expect(relay.calls.slice(before)).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  it('a renewal overdue past the grace shows the code dead; the relay’s late code brings it back, still without a call', async () => {
    const { svc, relay, clock } = setup();
    await svc.start('DANA');
    const id = svc.bindingId as string;
    const before = relay.calls.length;
    await clock.advance(60_000 + 29_000);
    expect(svc.status().state).toBe('QR_SHOWN');
    await clock.advance(1_000);
    expect(svc.status()).toMatchObject({ state: 'EXPIRED', qr: null, error: 'QR_EXPIRED' });
    svc.apply(relay.expireCode(id));
    expect(svc.status()).toMatchObject({ state: 'QR_SHOWN', qr: { refreshesLeft: 1 } });
    expect(relay.calls.slice(before)).toEqual([]);
  });

  it('the player’s tap: a shown code asks the relay; a dead one, or one the relay ended meanwhile, starts a new binding', async () => {
    const { svc, relay, clock } = setup();
    await svc.start('DANA');
    const first = svc.bindingId as string;
    const shown = await svc.refreshCode();
    expect(relay.count('refreshCode')).toBe(1);
    expect(shown).toMatchObject({ state: 'QR_SHOWN', qr: { refreshesLeft: 2 } });

    svc.apply(relay.expireCode(first));
    svc.apply(relay.expireCode(first));
    await clock.advance(60_000);
    expect(svc.status().state).toBe('EXPIRED');
    const fresh = await svc.refreshCode();
    expect(relay.count('createBinding')).toBe(2);
    expect(relay.count('refreshCode')).toBe(1);
    expect(fresh).toMatchObject({ state: 'QR_SHOWN', wallet: 'DANA' });
    const second = svc.bindingId as string;
    expect(second).not.toBe(first);

    // The relay's worker ended it before its status reached us: the tap gets a 409, then a new binding.
    relay.expireCode(second);
    relay.expireCode(second);
    relay.expireCode(second);
    expect(svc.status().state).toBe('QR_SHOWN');
    await svc.refreshCode();
    expect(relay.count('refreshCode')).toBe(2);
    expect(relay.count('createBinding')).toBe(3);
    expect(svc.status().state).toBe('QR_SHOWN');
    expect(svc.bindingId).not.toBe(second);
  });

  it('cancel withdraws the QR at the relay and clears the reference', async () => {
    const { svc, relay, vault } = setup();
    await svc.start('DANA');
    const id = svc.bindingId!;
    const s = await svc.cancel();
    expect(s.state).toBe('NONE');
    expect(relay.bindings.get(id)?.state).toBe('FAILED');
    expect(await vault.bindingRef('player-1')).toBeNull();
  });

  it('unbind revokes at the relay', async () => {
    const { svc, relay } = setup();
    await svc.start('DANA');
    const id = svc.bindingId!;
    svc.apply(relay.authorise(id));
    const seen: string[] = [];
    svc.onChange((s) => seen.push(s.state));
    await svc.unbind();
    expect(relay.bindings.get(id)?.state).toBe('REVOKED');
    expect(seen).toEqual(['REVOKED', 'NONE']);
    expect(() => svc.active()).toThrow(expect.objectContaining({ code: 'BINDING_NOT_FOUND' }));
  });

  it('restores the binding from the vault reference after a restart', async () => {
    const { svc, relay, vault, clock, secrets } = setup();
    await svc.start('ALIPAY_HK');
    relay.authorise(svc.bindingId!);
    const again = new BindingService({ relay, vault: new Vault(secrets), clock, log: new MemoryLogger(), playerKey: async () => 'player-1' });
    expect((await again.restore()).state).toBe('ACTIVE');
    expect(await vault.bindingRef('player-1')).toBe(svc.bindingId);
  });

  it.each(['locked', 'unavailable'] as const)('a %s keychain refuses to start and shows the error, no QR minted', async (mode) => {
    const { svc, relay, secrets } = setup();
    secrets.mode = mode;
    const code = mode === 'locked' ? 'KEYCHAIN_LOCKED' : 'KEYCHAIN_UNAVAILABLE';
    await expect(svc.start('DANA')).rejects.toMatchObject({ code });
    expect(svc.status().error).toBe(code);
    expect(relay.count('createBinding')).toBe(0);
    expect((await svc.restore()).error).toBe(code);
  });

  it('before minting a QR no keychain call once the keychain has answered; an unproven one is read once, with no probe write', async () => {
    const { svc, relay, secrets, vault, clock } = setup();
    await vault.setDeviceCredential({ relayUrl: 'http://127.0.0.1:8787', deviceId: 'dev_1', deviceSecret: 's'.repeat(43), kind: 'launcher' });
    const calls: string[] = [];
    for (const op of ['get', 'set', 'delete'] as const) {
      const inner = secrets[op].bind(secrets) as (...a: string[]) => Promise<never>;
      secrets[op] = (async (...a: string[]) => {
        calls.push(`${op} ${a[1]}`);
        return inner(...a);
      }) as never;
    }
    const createBinding = relay.createBinding.bind(relay);
    relay.createBinding = async (w) => {
      calls.push('createBinding');
      return createBinding(w);
    };
    // The vault took the credential write: proven, so the relay is asked first (issue 17, #5).
    await svc.start('ALIPAY_HK');
    expect(calls.slice(0, calls.indexOf('createBinding') + 1)).toEqual(['createBinding']);
    // A fresh vault (nothing answered yet) reads the credential back once.
    calls.length = 0;
    const fresh = new BindingService({ relay, vault: new Vault(secrets), clock, log: new MemoryLogger(), playerKey: async () => 'player-2' });
    await fresh.start('ALIPAY_HK');
    expect(calls.slice(0, calls.indexOf('createBinding') + 1)).toEqual(['get relay-device', 'createBinding']);
  });

  it('a keychain locked after it answered: the QR is shown, its reference write fails, the QR is withdrawn; the next start asks the keychain first and mints nothing', async () => {
    const { svc, relay, secrets, vault } = setup();
    await vault.setDeviceCredential({ relayUrl: 'http://127.0.0.1:8787', deviceId: 'dev_1', deviceSecret: 's'.repeat(43), kind: 'launcher' });
    secrets.mode = 'locked';
    const seen: string[] = [];
    svc.onChange((s) => seen.push(`${s.state} ${s.error ?? ''}`.trim()));
    await expect(svc.start('DANA')).rejects.toMatchObject({ code: 'KEYCHAIN_LOCKED' });
    expect(seen).toEqual(['QR_SHOWN', 'FAILED', 'NONE', 'NONE KEYCHAIN_LOCKED']);
    expect(relay.count('createBinding')).toBe(1);
    expect(relay.count('withdraw')).toBe(1);
    await expect(svc.start('DANA')).rejects.toMatchObject({ code: 'KEYCHAIN_LOCKED' });
    expect(relay.count('createBinding')).toBe(1);
  });

  it('puts the QR on screen before its reference is written to the vault (the write runs while the player scans)', async () => {
    const { svc, secrets, vault } = setup();
    let release = () => {};
    const written = new Promise<void>((resolve) => {
      release = resolve;
    });
    const set = secrets.set.bind(secrets);
    secrets.set = async (service, account, secret) => {
      if (account.startsWith('binding:')) await written;
      return set(service, account, secret);
    };
    const shown: string[] = [];
    svc.onChange((s) => shown.push(s.state));
    let done = false;
    const started = svc.start('ALIPAY_HK').finally(() => {
      done = true;
    });
    for (let i = 0; i < 20 && shown.length === 0; i++) await Promise.resolve();
    expect(shown).toEqual(['QR_SHOWN']);
    expect(done).toBe(false);
    expect(await vault.bindingRef('player-1')).toBeNull();
    release();
    expect((await started).state).toBe('QR_SHOWN');
    expect(await vault.bindingRef('player-1')).toBe(svc.bindingId);
  });

  it('a QR whose reference cannot be written is withdrawn at the relay and the keychain error is shown', async () => {
    const { svc, relay, secrets } = setup();
    const set = secrets.set.bind(secrets);
    secrets.set = async (service, account, secret) => {
      if (account.startsWith('binding:')) throw new Error('Cannot create an item in a locked collection');
      return set(service, account, secret);
    };
    const seen: string[] = [];
    svc.onChange((s) => seen.push(`${s.state} ${s.error ?? ''}`.trim()));
    await expect(svc.start('DANA')).rejects.toMatchObject({ code: 'KEYCHAIN_LOCKED' });
    expect(relay.count('createBinding')).toBe(1);
    expect(relay.count('withdraw')).toBe(1);
    expect([...relay.bindings.values()].map((b) => b.state)).toEqual(['FAILED']);
    expect(svc.status()).toMatchObject({ state: 'NONE', qr: null, error: 'KEYCHAIN_LOCKED' });
    expect(svc.bindingId).toBeNull();
    expect(seen.at(-1)).toBe('NONE KEYCHAIN_LOCKED');
  });

  it.each(['locked', 'unavailable'] as const)('with a %s keychain at start, paying says so (not "no binding")', async (mode) => {
    // Chaos matrix "keychain locked/absent": quote answered BINDING_NOT_FOUND, which sends the
    // player to link a wallet the keychain cannot remember either.
    const { svc, secrets } = setup();
    secrets.mode = mode;
    const code = mode === 'locked' ? 'KEYCHAIN_LOCKED' : 'KEYCHAIN_UNAVAILABLE';
    expect((await svc.restore()).error).toBe(code);
    expect(() => svc.active()).toThrow(expect.objectContaining({ code }));
    secrets.mode = 'ok';
    await svc.restore();
    expect(() => svc.active()).toThrow(expect.objectContaining({ code: 'BINDING_NOT_FOUND' }));
  });
});
