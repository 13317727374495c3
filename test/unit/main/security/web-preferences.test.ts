import { describe, expect, it } from 'vitest';
import { secureWebPreferences } from '../../../../main/security/web-preferences.ts';
import { expectedSecureWebPreferences } from './expected-web-preferences.ts';

const preloadPath = '/opt/app/out/preload/preload.cjs';

describe('secureWebPreferences', () => {
  it('sets every option of the window rule (isolated, sandboxed, no Node, one preload)', () => {
    const prefs = secureWebPreferences({ preloadPath, isDev: false });
    expect(prefs).toEqual(expectedSecureWebPreferences(preloadPath));
    expect(prefs).not.toHaveProperty('enableBlinkFeatures');
    expect(prefs).not.toHaveProperty('additionalArguments');
  });

  it('allows DevTools only in development', () => {
    expect(secureWebPreferences({ preloadPath, isDev: true }).devTools).toBe(true);
  });

  it('takes only one absolute bundled .cjs preload', () => {
    expect(() => secureWebPreferences({ preloadPath: 'preload.cjs', isDev: false })).toThrow();
    expect(() => secureWebPreferences({ preloadPath: '/opt/app/preload/index.ts', isDev: false })).toThrow();
  });
});
