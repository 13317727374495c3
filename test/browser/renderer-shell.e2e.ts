import { expect, test } from '@playwright/test';

// Loads the built renderer in Debian's Chromium: the page mounts, carries the strict CSP, and
// asks for nothing outside its own origin.
test('the built renderer mounts in Chromium under its CSP and loads nothing from outside', async ({ page, baseURL }) => {
  const foreign: string[] = [];
  const cspViolations: string[] = [];
  page.on('request', (req) => {
    if (!req.url().startsWith(`${baseURL}/`)) foreign.push(req.url());
  });
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
  });

  await page.goto('/');

  await expect(page.getByTestId('app-root')).toBeVisible();
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("connect-src 'none'");
  expect(foreign).toEqual([]);
  expect(cspViolations).toEqual([]);
});

test('an inline script is blocked by the CSP', async ({ page }) => {
  await page.goto('/');
  const ran = await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__inlineRan = true';
    document.body.appendChild(s);
    return (window as unknown as { __inlineRan?: boolean }).__inlineRan === true;
  });
  expect(ran).toBe(false);
});
