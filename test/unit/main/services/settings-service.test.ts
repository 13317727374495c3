import { describe, expect, it } from 'vitest';
import { defaultSettings, SettingsService, sanitiseSettings } from '../../../../main/services/settings-service.ts';
import { MemorySettingsStore } from '../../../fakes/memory-stores.ts';

describe('SettingsService', () => {
  it('starts from defaults resolved from the system locale', () => {
    const s = new SettingsService(new MemorySettingsStore(), defaultSettings('zh-MO')).get();
    expect(s).toEqual({
      locale: 'zh-HK',
      lastWallet: null,
      mode: 'embedded',
      kiosk: { idleSeconds: 90, promptSeconds: 20 },
      relayUrl: 'http://127.0.0.1:8787',
    });
  });

  it('keeps valid stored fields and replaces invalid ones field by field', () => {
    const s = sanitiseSettings({ locale: 'id-ID', lastWallet: 'PAYPAL', mode: 'kiosk', relayUrl: 'ftp://x', deviceSecret: 'nope' }, defaultSettings('en'));
    expect(s.locale).toBe('id-ID');
    expect(s.lastWallet).toBeNull();
    expect(s.mode).toBe('kiosk');
    expect(s.relayUrl).toBe('http://127.0.0.1:8787');
    expect(s).not.toHaveProperty('deviceSecret');
  });

  it('saves player and operator changes and tells listeners', () => {
    const store = new MemorySettingsStore();
    const svc = new SettingsService(store, defaultSettings('en'));
    const seen: string[] = [];
    svc.onChange((s) => seen.push(s.locale));
    svc.setPlayer({ locale: 'id-ID', lastWallet: 'DANA' });
    svc.setOperator({ mode: 'kiosk', relayUrl: 'https://relay.example.com' });
    expect(store.doc).toMatchObject({ locale: 'id-ID', lastWallet: 'DANA', mode: 'kiosk', relayUrl: 'https://relay.example.com' });
    expect(seen).toEqual(['id-ID', 'id-ID']);
  });

  it('never writes a key outside the schema (nothing secret can be saved)', () => {
    const store = new MemorySettingsStore();
    const svc = new SettingsService(store, defaultSettings('en'));
    expect(() => svc.setOperator({ deviceSecret: 'x' } as never)).toThrow();
    expect(store.writes).toBe(0);
    expect(() => svc.setOperator({ kiosk: { idleSeconds: 1, promptSeconds: 1 } })).toThrow();
  });
});
