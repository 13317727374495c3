import { describe, expect, it } from 'vitest';
import { checkRelayUrl } from '../../../../main/services/relay-url-policy.ts';

describe('relay URL rule', () => {
  it('a packaged build accepts https only', () => {
    expect(checkRelayUrl('https://relay.example.com', true)).toMatchObject({ ok: true });
    expect(checkRelayUrl('https://relay.example.com:8443/base/', true)).toMatchObject({ ok: true });
    for (const url of ['http://relay.example.com', 'http://127.0.0.1:8787', 'http://localhost:8787', 'http://[::1]:8787']) {
      expect(checkRelayUrl(url, true)).toMatchObject({ ok: false, reason: expect.stringMatching(/https/u) });
    }
  });

  it('development accepts https, and plain http to loopback only', () => {
    for (const url of ['https://relay.example.com', 'http://127.0.0.1:8787', 'http://localhost:8787', 'http://LOCALHOST:1', 'http://[::1]:8787']) {
      expect(checkRelayUrl(url, false)).toMatchObject({ ok: true });
    }
    for (const url of ['http://192.168.1.20:8787', 'http://relay.example.com', 'http://127.0.0.1.evil.test', 'http://localhost.evil.test', 'http://10.0.0.1']) {
      expect(checkRelayUrl(url, false)).toMatchObject({ ok: false });
    }
  });

  it('refuses other schemes, non-URLs and URLs with credentials in either build', () => {
    for (const isPackaged of [true, false]) {
      for (const url of ['ftp://relay.example.com', 'file:///etc/passwd', 'ws://127.0.0.1', 'not a url', '', 'https://user:pw@relay.example.com']) {
        expect(checkRelayUrl(url, isPackaged).ok).toBe(false);
      }
    }
  });
});
