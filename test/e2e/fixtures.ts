import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { errorMessage, formatMoney, type Locale, type Money } from '@scan-to-bind/shared/domain';
import { type Browser, type BrowserContext, test as base, expect, type Page } from '@playwright/test';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import type { RelayConfigInput } from '../../relay/src/config.ts';
import { type Stack, startStack } from '../../relay/test/support/stack.ts';
import { FakeClock } from '../fakes/fake-clock.ts';
import { BRIDGE_COOKIE, type BridgeHost, startBridgeHost } from '../../main/dev/bridge-host.ts';
import { type ClientMain, startClientMain } from './host/client-main.ts';
import { startTcpProxy, type TcpProxy } from './host/tcp-proxy.ts';
import { en, type MessageKey } from '../../renderer/src/i18n/en.ts';
import { idID } from '../../renderer/src/i18n/id-ID.ts';
import { zhHK } from '../../renderer/src/i18n/zh-HK.ts';

const CATALOGUES = { en, 'zh-HK': zhHK, 'id-ID': idID } as const;

/** A renderer string in `locale` (the catalogues the bundle was built from). */
export function t(locale: Locale, key: MessageKey, params: Record<string, string | number> = {}): string {
  return CATALOGUES[locale][key].replace(/\{(\w+)\}/g, (whole, name: string) => String(params[name] ?? whole));
}

/*
 * The end-to-end fixture: per test, the sandbox and a relay on SQLite (relay/test/support/
 * stack.ts: controllable clock, enrolled devices, sandbox admin), a TCP proxy in front of the
 * relay (the PC's network), main's real services behind the bridge host, and helpers for the
 * player's phone, the screenshots and the money on both sides.
 */

export const RENDERER_DIR = resolve('out/renderer');
/** A phone: what the wallet page is opened on after the QR is read from the screen. */
const PHONE = {
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
  deviceScaleFactor: 2,
  userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Mobile Safari/537.36',
} as const;

/** Sandbox demo accounts (sandbox/README.md). */
export const ACCOUNTS = {
  hk: '852-6123-8812',
  hkLow: '852-6000-0001',
  dana: '62-812-3456-4321',
} as const;

export interface AppOptions {
  readonly scenario: string;
  readonly locale: Locale;
  readonly device?: 'launcher' | 'kiosk';
  readonly relay?: Partial<RelayConfigInput>;
  /** The relay's Antom call timeout (the stack's default is 2 s; production's is 15 s). */
  readonly antomTimeoutMs?: number;
}

/** A relay purchase row, as the ledger assertions need it. */
export interface LedgerRow {
  intent_id: string;
  state: string;
  amount_minor: number;
  currency: string;
  payment_request_id: string;
  error_code: string | null;
}

/** Everything one scenario runs against. */
export class E2eApp {
  readonly stack: Stack;
  readonly main: ClientMain;
  readonly host: BridgeHost;
  readonly proxy: TcpProxy;
  readonly kioskClock: FakeClock;
  readonly context: BrowserContext;
  readonly options: AppOptions;
  readonly #browser: Browser;
  readonly #phones: BrowserContext[] = [];
  /** The game server's webhook (fulfilment deliveries by purchase intent id). */
  readonly webhook: { deliveries: string[]; close(): Promise<void> };

  constructor(p: {
    stack: Stack;
    main: ClientMain;
    host: BridgeHost;
    proxy: TcpProxy;
    kioskClock: FakeClock;
    context: BrowserContext;
    options: AppOptions;
    browser: Browser;
    webhook: { deliveries: string[]; close(): Promise<void> };
  }) {
    this.webhook = p.webhook;
    this.stack = p.stack;
    this.main = p.main;
    this.host = p.host;
    this.proxy = p.proxy;
    this.kioskClock = p.kioskClock;
    this.context = p.context;
    this.options = p.options;
    this.#browser = p.browser;
  }

  get locale(): Locale {
    return this.options.locale;
  }

  /** Opens a window of the app (a page of the built renderer on the host's origin). */
  async open(query: string): Promise<Page> {
    const page = await this.context.newPage();
    page.on('pageerror', (e) => console.error(`[${this.options.scenario}] page error: ${String(e)}`));
    await page.goto(`${this.host.url}/${query}`);
    await expect(page.getByTestId('app-root')).toHaveAttribute('data-bridge', 'present');
    await expect(page.locator('html')).toHaveAttribute('lang', this.locale);
    return page;
  }

  /** Saves test-results/e2e/<scenario>/<state>.png. */
  async shot(page: Page, state: string): Promise<Buffer> {
    const dir = join('test-results', 'e2e', this.options.scenario);
    mkdirSync(dir, { recursive: true });
    // A kiosk reset reloads the page (as main does); a capture that lands mid-reload is
    // refused by Chromium, so wait for the page to settle and take it again.
    for (let attempt = 1; ; attempt++) {
      try {
        await page.waitForLoadState('load');
        return await page.screenshot({ path: join(dir, `${state}.png`), animations: 'disabled' });
      } catch (err) {
        if (attempt >= 3 || !/Unable to capture screenshot|navigat/i.test(String(err))) throw err;
      }
    }
  }

  /**
   * Reads the QR from the screenshot's pixels (jsQR), saving the screenshot as `state`.
   * `not` skips a code already seen (waits for the screen to show a fresh one).
   */
  async readQr(page: Page, state: string, not?: string): Promise<string> {
    await expect(page.getByTestId('qr')).toBeVisible();
    let value: string | null = null;
    await expect
      .poll(
        async () => {
          const png = PNG.sync.read(await this.shot(page, state));
          value = jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data ?? null;
          return value !== null && value !== not;
        },
        { message: 'a QR code on screen', timeout: 15_000 },
      )
      .toBe(true);
    return value as unknown as string;
  }

  /** The phone: opens the scanned URL in a phone-sized context and answers on the wallet page. */
  async phone(url: string, answer: 'authorize' | 'decline', o: { account?: string; shot?: string } = {}): Promise<Page> {
    const phone = await this.#browser.newContext({ ...PHONE, locale: this.locale });
    this.#phones.push(phone);
    const page = await phone.newPage();
    await page.goto(url);
    if (o.account) await page.locator('select#account').selectOption(o.account);
    if (o.shot) await this.shot(page, o.shot);
    const button = answer === 'authorize' ? page.locator('form#authorize button') : page.locator('form[action*="/decline"] button');
    const answered = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes(`/${answer}`));
    await button.tap();
    const res = await answered;
    await page.waitForLoadState('domcontentloaded');
    return Object.assign(page, { answerStatus: res.status() });
  }

  /** Links a wallet the way the player does: pick, read the QR off the screen, authorize on the phone. */
  async link(page: Page, wallet: 'AlipayHK' | 'DANA', account: string, shotPrefix = 'bind'): Promise<void> {
    await page.getByRole('button', { name: wallet, exact: true }).click();
    const code = await this.readQr(page, `${shotPrefix}-qr`);
    await this.phone(code, 'authorize', { account });
    await expect(page.getByTestId('linked')).toContainText(account.slice(-4), { timeout: 15_000 });
  }

  /** The relay's purchases (its ledger), oldest first. */
  async ledger(): Promise<LedgerRow[]> {
    return (await this.stack.relay.store.db
      .selectFrom('purchases')
      .select(['intent_id', 'state', 'amount_minor', 'currency', 'payment_request_id', 'error_code', 'created_at'])
      .orderBy('created_at')
      .execute()) as LedgerRow[];
  }

  /** The relay's bindings. */
  async bindings(): Promise<Array<{ id: string; state: string; masked_account: string | null }>> {
    return this.stack.relay.store.db.selectFrom('bindings').select(['id', 'state', 'masked_account']).orderBy('created_at').execute();
  }

  /** Fulfilment outbox rows for one purchase (the relay's dedupe key is the intent id). */
  async fulfilments(intentId: string): Promise<number> {
    const rows = await this.stack.relay.store.db.selectFrom('fulfilment_outbox').select('intent_id').where('intent_id', '=', intentId).execute();
    return rows.length;
  }

  /** The sandbox's state (accounts, tokens, payments…). */
  async sandbox(): Promise<{
    accounts: Array<{ loginId: string; balance: number | string }>;
    tokens: Array<{ loginId: string; status: string }>;
    payments: Array<{ paymentRequestId: string; status?: string; paymentAmount?: { currency: string; value: string } }>;
    /** The API requests the sandbox received (bounded log), by endpoint. */
    requests: Array<{ endpoint?: string }>;
  }> {
    return (await this.stack.admin('GET', '/state')).body as never;
  }

  /** A sandbox balance in minor units. */
  async balance(loginId: string): Promise<number> {
    const a = (await this.sandbox()).accounts.find((x) => x.loginId === loginId);
    if (!a) throw new Error(`no sandbox account ${loginId}`);
    return Number(a.balance);
  }

  /** The sandbox payments of one purchase (the relay derives paymentRequestId from the intent). */
  async payments(intentId: string) {
    return (await this.sandbox()).payments.filter((p) => p.paymentRequestId.includes(intentId.replace(/-/g, '')));
  }

  /** What the screen says for an error code, in this scenario's language. */
  error(code: Parameters<typeof errorMessage>[0], wallet?: string): string {
    return errorMessage(code, this.locale, wallet ? { wallet } : {});
  }

  t(key: MessageKey, params: Record<string, string | number> = {}): string {
    return t(this.locale, key, params);
  }

  money(m: Money): string {
    return formatMoney(m, this.locale);
  }

  async close(): Promise<void> {
    for (const p of this.#phones) await p.close().catch(() => undefined);
    await this.context.close().catch(() => undefined);
    await this.host.close();
    await this.main.close();
    await this.proxy.close();
    await this.stack.close();
    await this.webhook.close();
  }
}

/** The game server's fulfilment webhook: records the purchase of every delivery. */
async function startWebhook(): Promise<{ url: string; deliveries: string[]; close(): Promise<void> }> {
  const deliveries: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      try {
        deliveries.push(String((JSON.parse(body) as { purchaseIntentId?: unknown }).purchaseIntentId));
      } catch {
        deliveries.push('unreadable');
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/fulfil`, deliveries, close: () => new Promise((r) => server.close(() => r())) };
}

/** The fulfilment webhook pointed at the test's game server, with fast retries. */
function relayOverrides(webhookUrl: string, extra: Partial<RelayConfigInput> = {}): Partial<RelayConfigInput> {
  return {
    fulfilment: { webhookUrl, secret: 'e2e-fulfilment-secret-0123456789', baseDelayMs: 50, maxDelayMs: 500 },
    ...extra,
  };
}

/** Starts everything of one scenario. */
export async function startApp(browser: Browser, options: AppOptions): Promise<E2eApp> {
  const webhook = await startWebhook();
  const stack = await startStack(
    'sqlite',
    relayOverrides(webhook.url, options.relay),
    options.antomTimeoutMs === undefined ? {} : { antomTimeoutMs: options.antomTimeoutMs },
  );
  const proxy = await startTcpProxy(stack.relay.url);
  const device = options.device ?? 'launcher';
  const td = device === 'kiosk' ? stack.kiosk : stack.launcher;
  const player = `player-${options.scenario}`;
  const kioskClock = new FakeClock();
  const main = await startClientMain({
    relayUrl: proxy.url,
    device: { deviceId: td.creds.deviceId, deviceSecret: td.creds.deviceSecret, kind: device },
    playerAssertion: device === 'launcher' ? () => stack.assertion(player) : null,
    locale: options.locale,
    kioskClock,
    now: () => stack.clock.now(),
  });
  const host = await startBridgeHost(main, RENDERER_DIR);
  const context = await browser.newContext({ viewport: { width: 800, height: 600 }, locale: options.locale });
  await context.addCookies([{ name: BRIDGE_COOKIE, value: host.secret, url: host.url, httpOnly: true, sameSite: 'Strict' }]);
  return new E2eApp({ stack, main, host, proxy, kioskClock, context, options, browser, webhook });
}

/** `launch(options)` starts a scenario's parts; they are closed after the test. */
export const test = base.extend<{ launch: (o: AppOptions) => Promise<E2eApp> }>({
  launch: async ({ browser }, use) => {
    const apps: E2eApp[] = [];
    await use(async (o) => {
      const app = await startApp(browser, o);
      apps.push(app);
      return app;
    });
    for (const a of apps) await a.close();
  },
});

export { expect };
