import { describe, expect, it } from 'vitest';
import { buildCsp, PRODUCTION_CSP } from '../../../../main/security/csp.ts';

describe('CSP', () => {
  it('is exactly the strict production policy (no network, only self scripts and styles)', () => {
    expect(PRODUCTION_CSP).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'",
    );
    expect(buildCsp()).toBe(PRODUCTION_CSP);
    expect(buildCsp({ devServerUrl: null })).toBe(PRODUCTION_CSP);
  });

  it('never allows inline or eval scripts, remote hosts or network access in production', () => {
    expect(PRODUCTION_CSP).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
    expect(PRODUCTION_CSP).toContain("connect-src 'none'");
  });

  it('adds only the loopback dev server in development', () => {
    const dev = buildCsp({ devServerUrl: 'http://127.0.0.1:5173' });
    expect(dev).toContain("script-src 'self' http://127.0.0.1:5173;");
    expect(dev).toContain('connect-src http://127.0.0.1:5173 ws://127.0.0.1:5173');
    expect(dev).not.toContain('unsafe-eval');
    expect(dev).toContain("default-src 'none'");
  });

  it('refuses a non-loopback dev server', () => {
    expect(() => buildCsp({ devServerUrl: 'http://evil.test:5173' })).toThrow();
    expect(() => buildCsp({ devServerUrl: 'https://127.0.0.1:5173' })).toThrow();
  });
});
