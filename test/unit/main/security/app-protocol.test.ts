import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAppProtocolHandler, resolveAppAsset } from '../../../../main/security/app-protocol.ts';
import { PRODUCTION_CSP } from '../../../../main/security/csp.ts';

const base = mkdtempSync(join(tmpdir(), 'stb-proto-'));
const root = join(base, 'renderer');
mkdirSync(join(root, 'assets'), { recursive: true });
writeFileSync(join(root, 'index.html'), '<!doctype html>');
writeFileSync(join(root, 'assets', 'app.js'), 'console.log(1)');
writeFileSync(join(base, 'secret.json'), '{"secret":1}');
symlinkSync(join(base, 'secret.json'), join(root, 'assets', 'link.json'));

describe('resolveAppAsset', () => {
  it('maps app URLs into the root', () => {
    expect(resolveAppAsset(root, 'app://app/')).toBe(join(root, 'index.html'));
    expect(resolveAppAsset(root, 'app://app/index.html')).toBe(join(root, 'index.html'));
    expect(resolveAppAsset(root, 'app://app/assets/app.js?x=1#y')).toBe(join(root, 'assets', 'app.js'));
  });

  it.each(['app://app/../secret.json', 'app://app/%2e%2e/secret.json', 'app://app/assets/%2E%2E/%2E%2E/secret.json', 'app://app/assets/../../../secret.json'])(
    'never resolves %s outside the root (the URL parser folds dot segments first)',
    (url) => {
      const resolved = resolveAppAsset(root, url);
      expect(resolved === null || resolved.startsWith(`${root}/`)).toBe(true);
    },
  );

  it.each([
    'app://app/assets/..%2f..%2fsecret.json',
    'app://app/..%5csecret.json',
    'app://app/%00index.html',
    'app://app/%E0%A4%A',
    'app://evil/index.html',
    'app://app.evil.test/index.html',
    'file:///etc/passwd',
    'app://app/index.sh',
  ])('refuses %s', (url) => {
    expect(resolveAppAsset(root, url)).toBeNull();
  });
});

describe('createAppProtocolHandler', () => {
  const handler = createAppProtocolHandler({ rootDir: root, csp: PRODUCTION_CSP });

  it('serves files with the CSP and hardening headers', async () => {
    const res = await handler(new Request('app://app/index.html'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(PRODUCTION_CSP);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toBe('<!doctype html>');
  });

  it('refuses traversal, symlinks out of the root, missing files and non-GET methods', async () => {
    expect((await handler(new Request('app://app/%2e%2e/secret.json'))).status).toBe(404);
    expect((await handler(new Request('app://app/assets/../../secret.json'))).status).toBe(404);
    expect((await handler(new Request('app://app/assets/link.json'))).status).toBe(404);
    expect((await handler(new Request('app://app/missing.js'))).status).toBe(404);
    expect((await handler(new Request('app://app/index.html', { method: 'POST', body: 'x' }))).status).toBe(405);
  });
});
