import { CHROMIUM_ARGS } from '../test/support/chromium-args.ts';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { signPlayerAssertion } from '../relay/src/devices/player-assertion.ts';
import { type TestDatabase, testConfig } from '../relay/test/support/env.ts';
import { BRIDGE_COOKIE, type BridgeHost, startBridgeHost } from '../main/dev/bridge-host.ts';
import { type ClientMain, startClientMain } from '../test/e2e/host/client-main.ts';
import { FakeClock } from '../test/fakes/fake-clock.ts';
import { CLIENT_ID, startBenchStack } from './stack.ts';
import { summarise } from './stats.ts';
import { goalRow, type Row, skippedRow } from './table.ts';

/*
 * #4, #5, #6 and #8 (renderer heap) in Debian's Chromium (playwright-core, the flags of
 * playwright.config.ts) against the end-to-end host of test/e2e: the built renderer served by
 * main/dev/bridge-host.ts and main's real services (client-main.ts) behind it, in the bench
 * process, as the client's main process; the sandbox and a relay on SQLite (zero payment delay,
 * the e2e tests' relay settings) each in a child process of their own (bench/stack.ts), as in
 * the product, where the relay and Antom are servers elsewhere: their CPU no longer runs on the
 * client's event loop. Paint times are taken in the page: a MutationObserver sees the DOM
 * change, and performance.now() is read in the next requestAnimationFrame callback. The relay
 * child times each request itself (bench/servers.ts: 'request' event → last byte written, and
 * its Antom calls within), which splits #5 cold and #6 into the servers' share and the client's.
 */

const QUICK = process.env['BENCH_QUICK'] === '1';
const RUNS = Math.max(5, Number(process.env['BENCH_RUNS'] ?? 5));
const CYCLES = QUICK ? 200 : 1000;
/** Cycles before the #8 baseline (see the comment at the measurement). */
const WARM_CYCLES = QUICK ? 100 : 500;
const RENDERER_DIR = resolve('out/renderer');
const ACCOUNT = '852-6123-8812';

/**
 * Installed in the page: resolves with performance.now() in the first animation frame after
 * `selector` matches (checked on every DOM mutation). `from` (optional) is a click on
 * `clickSelector`: its event timeStamp is returned too.
 */
function armProbe(args: { key: string; selector: string; clickSelector?: string }): void {
  const w = window as unknown as Record<string, unknown>;
  const out: { click?: number; painted?: number } = {};
  w[args.key] = out;
  if (args.clickSelector) {
    const sel = args.clickSelector;
    document.addEventListener(
      'click',
      (e) => {
        if (out.click === undefined && (e.target as Element | null)?.closest(sel)) out.click = e.timeStamp;
      },
      { capture: true },
    );
  }
  const check = (): boolean => {
    if (!document.querySelector(args.selector)) return false;
    requestAnimationFrame(() => {
      out.painted = performance.now();
    });
    return true;
  };
  if (check()) return;
  const mo = new MutationObserver(() => {
    if (check()) mo.disconnect();
  });
  mo.observe(document.documentElement, { subtree: true, childList: true, attributes: true, characterData: true });
}

/**
 * Waits until the page's main thread has been idle twice (requestIdleCallback, each bounded by
 * 1 s): a player clicks a wallet or Buy after reading the view, not while a freshly loaded page
 * is still starting up (80–210 ms of renderer CPU in the 300 ms after load were seen inside #5
 * cold when the bench clicked at once). Cold still means cold: main holds no QR until the click.
 */
async function settle(page: Page): Promise<void> {
  for (let i = 0; i < 2; i++) {
    await page.evaluate(() => new Promise<void>((resolve) => requestIdleCallback(() => resolve(), { timeout: 1000 })));
  }
}

async function probe(page: Page, key: string): Promise<{ click?: number; painted: number }> {
  await page.waitForFunction((k) => (window as unknown as Record<string, { painted?: number }>)[k]?.painted !== undefined, key, { timeout: 20_000 });
  return page.evaluate((k) => (window as unknown as Record<string, { click?: number; painted: number }>)[k] as { click?: number; painted: number }, key);
}

interface App {
  main: ClientMain;
  host: BridgeHost;
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export async function browserFigures(): Promise<Row[]> {
  const skip = (why: string): Row[] =>
    [
      ['4', 'wallet authorized → "bound" painted', 'p50 ≤ 150 ms, p99 ≤ 400 ms'],
      ['5', 'overlay opened → QR painted', 'prefetched ≤ 100 ms; cold ≤ 30 ms + consult'],
      ['6', 'Buy clicked → "Paying…" painted; click → result (in all, and beyond relay + sandbox)', '≤ 50 ms; p50 ≤ 20 ms'],
      ['8', 'renderer JS heap after 1,000 open/close cycles', 'growth ≤ 10 %'],
    ].map(([id, figure, goal]) => skippedRow(id as string, figure as string, why, goal as string, 'ms'));
  const executablePath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
  if (!existsSync(`${RENDERER_DIR}/index.html`)) return skip('out/renderer not built (npx vite build --config renderer/vite.config.ts)');
  if (!existsSync(executablePath)) return skip(`no Chromium at ${executablePath}`);

  console.log('browser rows (#4 #5 #6 #8 heap) …');
  // The relay of the e2e tests (relay/test/support: catalogue, limits, players, timings) with a
  // studio key of this run, its sections taken from testConfig (their one owner); the
  // connection settings (database, Antom, keys) are the bench stack's.
  const studio = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const e2e = testConfig({
    db: { databaseUrl: undefined, dataDir: '.' } as TestDatabase,
    antomBaseUrl: 'http://127.0.0.1:1',
    clientId: CLIENT_ID,
    merchantPrivateKeyPem: '',
    antomPublicKeyPem: '',
    studioPublicKeyPem: studio.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  });
  const { strictResponses, players, catalogue, payments, worker, events, limits } = e2e;
  if (!players) throw new Error('testConfig gave no players section');
  const stack = await startBenchStack({
    engine: 'sqlite',
    paymentDelayMs: 0,
    devices: 0,
    launchers: 1,
    limits: 'default',
    relayConfig: { strictResponses, players, catalogue, payments, worker, events, limits },
  });
  const launcher = stack.launchers[0];
  if (!launcher) throw new Error('no launcher enrolled');
  const assertion = (player: string): string =>
    signPlayerAssertion(
      studio.privateKey,
      { iss: players.issuer, aud: players.audience, sub: player, ttlSeconds: 600, did: launcher.deviceId },
      { alg: 'ES256' },
    );
  /** The relay's own timing of the requests it finished since the last call (bench/servers.ts). */
  interface Served {
    route: string;
    status: number;
    totalMs: number;
    antomMs: number;
  }
  const served = (): Promise<Served[]> => stack.relay.call<Served[]>('samples');
  /**
   * The one request of `route` the relay served since the last `served()`. The relay records a
   * request when its last byte is written ('finish'), which can come after the page has the
   * answer: asked again until it is there (2 s at most), or an error naming what was served.
   */
  const one = async (route: string): Promise<Served> => {
    const all: Served[] = [];
    for (let i = 0; i < 100; i++) {
      all.push(...(await served()));
      const hits = all.filter((x) => x.route === route);
      if (hits.length > 1) break;
      if (hits.length === 1) return hits[0] as Served;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`expected one ${route}, the relay served ${JSON.stringify(all.map((x) => x.route))}`);
  };
  await stack.relay.call('record', { on: true });
  const browser: Browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  let player = 0;
  /** A fresh player (own main, own binding) with a window of the app open at `hash`. */
  const openApp = async (hash: string): Promise<App> => {
    const id = `bench-player-${++player}`;
    const main = await startClientMain({
      relayUrl: stack.relayUrl,
      device: { ...launcher, kind: 'launcher' },
      playerAssertion: () => assertion(id),
      locale: 'en',
      kioskClock: new FakeClock(),
      now: () => Date.now(),
    });
    const host = await startBridgeHost(main, RENDERER_DIR);
    const context = await browser.newContext({ viewport: { width: 800, height: 600 }, locale: 'en' });
    // tsx (esbuild keepNames) wraps named functions in `__name(…)`; functions serialised into
    // the page (the bridge shim, the probes below) need that helper there too.
    await context.addInitScript('globalThis.__name = (f) => f;');
    await context.addCookies([{ name: BRIDGE_COOKIE, value: host.secret, url: host.url, httpOnly: true, sameSite: 'Strict' }]);
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error(`  page error: ${String(e)}`));
    await page.goto(`${host.url}/${hash}`);
    await page.waitForSelector('[data-testid="app-root"][data-bridge="present"]');
    return {
      main,
      host,
      context,
      page,
      async close() {
        await context.close().catch(() => undefined);
        await host.close();
        await main.close();
      },
    };
  };

  const bound: number[] = [];
  const cold: number[] = [];
  const coldLessConsult: number[] = [];
  /** Cold minus the relay's whole binding request (its consult included). */
  const coldLessRelay: number[] = [];
  const prefetched: number[] = [];
  const paying: number[] = [];
  const result: number[] = [];
  /** Click → result minus the relay's whole pay request (the sandbox's pay call included). */
  const resultLessServers: number[] = [];
  const payServed: number[] = [];
  let heapRow: Row | undefined;
  try {
    for (let r = 0; r < RUNS + 1; r++) {
      const warm = r === 0; // first run: JIT and caches warm-up, not counted
      const app = await openApp('#/bind');
      const { page, main } = app;
      try {
        const wallet = page.getByRole('button', { name: 'AlipayHK', exact: true });
        await wallet.waitFor();
        await settle(page);
        if (main.binding.status().qr) throw new Error('#5 cold: main already holds a QR before the wallet click');

        // #5 cold: click the wallet in the open overlay → QR painted (includes the consult).
        await page.evaluate(armProbe, { key: 'p5c', selector: '[data-testid="qr"]', clickSelector: 'button.wallet' });
        await served();
        await wallet.click();
        const c = await probe(page, 'p5c');
        const coldMs = c.painted - (c.click as number);
        // The binding request as the relay timed it: its consult call (antomMs) and the whole.
        const started = await one('POST /v1/bindings');

        // #5 prefetched: the QR is already minted (main holds it); main routes the open window
        // to the overlay (a hash route, as app-runtime does) → QR painted.
        await page.evaluate(() => {
          location.hash = '#/manage';
        });
        await page.waitForSelector('[data-testid="app-root"][data-view="manage"]');
        await page.evaluate(armProbe, { key: 'p5p', selector: '[data-view="bind"] [data-testid="qr"]' });
        const t0 = await page.evaluate(() => {
          const t = performance.now();
          location.hash = '#/bind';
          return t;
        });
        const p = await probe(page, 'p5p');

        // #4: the phone authorizes → sandbox sends notifyAuthorization → "linked" painted.
        const codeValue = main.binding.status().qr?.codeValue;
        if (!codeValue) throw new Error(`no QR in main: ${JSON.stringify(main.binding.status())}`);
        await page.evaluate(armProbe, { key: 'p4', selector: '[data-testid="linked"]' });
        const approved = await fetch(`${codeValue}/authorize`, {
          method: 'POST',
          headers: { accept: 'application/json', 'content-type': 'application/json' },
          body: JSON.stringify({ account: ACCOUNT }),
        });
        await approved.text();
        if (approved.status >= 300) throw new Error(`authorize: ${approved.status}`);
        const b = await probe(page, 'p4');
        const paintedAt = await page.evaluate((t) => performance.timeOrigin + t, b.painted);
        const state = (await stack.sandboxState()) as { notifications: { kind: string; attempts: { at: number }[] }[] };
        const sent = state.notifications.filter((n) => n.kind === 'notifyAuthorization').at(-1)?.attempts[0]?.at;
        if (sent === undefined) throw new Error('no notifyAuthorization sent');

        // #6: Buy clicked → "Paying…" painted, and click → result painted (zero-delay sandbox).
        await page.evaluate(() => {
          location.hash = '#/purchase/gems-100/1';
        });
        const buy = page.getByTestId('buy');
        await buy.waitFor();
        await page.waitForFunction(() => document.querySelector('[data-testid="buy"]')?.getAttribute('aria-disabled') !== 'true');
        await settle(page);
        await page.evaluate(armProbe, { key: 'p6a', selector: '[data-testid="buy"] .spinner', clickSelector: '[data-testid="buy"]' });
        await page.evaluate(armProbe, { key: 'p6b', selector: '[data-testid="result"]:not([data-result="checking"])', clickSelector: '[data-testid="buy"]' });
        await served();
        await buy.click();
        const pa = await probe(page, 'p6a');
        const pr = await probe(page, 'p6b');
        const outcome = await page.getAttribute('[data-testid="result"]', 'data-result');
        if (outcome !== 'succeeded') throw new Error(`purchase result: ${outcome}`);
        // The pay request as the relay timed it, its Antom pay call (the sandbox) included.
        const pay = await one('POST /v1/purchases');

        if (!warm) {
          cold.push(coldMs);
          coldLessConsult.push(coldMs - started.antomMs);
          coldLessRelay.push(coldMs - started.totalMs);
          prefetched.push(p.painted - t0);
          bound.push(paintedAt - sent);
          paying.push(pa.painted - (pa.click as number));
          result.push(pr.painted - (pr.click as number));
          resultLessServers.push(pr.painted - (pr.click as number) - pay.totalMs);
          payServed.push(pay.totalMs);
        }
      } finally {
        await app.close();
      }
    }

    // #8 renderer heap: one window, the overlay (with a QR on it) opened and closed CYCLES times.
    const app = await openApp('#/manage');
    try {
      await app.main.binding.start('ALIPAY_HK');
      const cdp = await app.page.context().newCDPSession(app.page);
      const cycle = (n: number) =>
        app.page.evaluate(async (count) => {
          const frame = () => new Promise((r) => requestAnimationFrame(r));
          const until = async (test: () => boolean) => {
            for (let i = 0; !test(); i++) {
              if (i > 600) throw new Error('view did not change');
              await frame();
            }
          };
          for (let i = 0; i < count; i++) {
            location.hash = '#/bind';
            await until(() => document.querySelector('[data-view="bind"] [data-testid="qr"]') !== null);
            location.hash = '#/manage';
            await until(() => document.querySelector('[data-view="manage"]') !== null && document.querySelector('[data-testid="qr"]') === null);
          }
        }, n);
      const heap = async (): Promise<number> => {
        await cdp.send('HeapProfiler.collectGarbage');
        return ((await cdp.send('Runtime.getHeapUsage')) as { usedSize: number }).usedSize;
      };
      // Warm-up: the first mount of each component, then enough cycles for V8 to settle. The
      // heap grows over the first ~1,000 cycles and then stays flat (measured to 3,000 cycles);
      // a heap snapshot diff between cycle 10 and cycle 1,000 shows the growth is V8's compiled
      // code (~230 KB), its number-to-string cache (~64 KB) and Chromium's capped layout-shift
      // and navigation entries, with no per-cycle growth of closures, objects or DOM nodes. So
      // the baseline is taken after WARM_CYCLES; the growth since cycle 10 is in the note.
      await cycle(10);
      const early = summarise([await heap(), await heap(), await heap()]).median;
      await cycle(WARM_CYCLES - 10);
      const idle: number[] = [];
      for (let i = 0; i < RUNS; i++) idle.push(await heap());
      const started = performance.now();
      await cycle(CYCLES);
      const cyclesMs = performance.now() - started;
      const after: number[] = [];
      for (let i = 0; i < RUNS; i++) after.push(await heap());
      const base = summarise(idle).median;
      const end = summarise(after);
      const growth = end.median / base - 1;
      heapRow = {
        id: '8',
        figure: `renderer JS heap after ${CYCLES} overlay open/close cycles vs before`,
        unit: 'MB',
        summary: summarise(after.map((x) => x / 1e6)),
        peer: base / 1e6,
        peerName: 'heap MB before',
        ratio: end.median / base,
        goal: 'growth ≤ 10 %',
        met: growth <= 0.1,
        note: `growth ${(growth * 100).toFixed(1)} % after ${WARM_CYCLES} warm-up cycles (${((end.median / early - 1) * 100).toFixed(1)} % since cycle 10: V8 warm-up, see docs/benchmarks.md) (used JS heap after a forced GC, CDP Runtime.getHeapUsage; ${(cyclesMs / CYCLES).toFixed(1)} ms per cycle; open = hash route to the overlay with a QR shown, close = route to manage)`,
      };
    } finally {
      await app.close();
    }
  } finally {
    await browser.close().catch(() => undefined);
    await stack.close();
  }

  const s4 = summarise(bound);
  const s5c = summarise(cold);
  const s5cl = summarise(coldLessConsult);
  const s5p = summarise(prefetched);
  const s6a = summarise(paying);
  const s6b = summarise(result);
  const s6c = summarise(resultLessServers);
  const max = (xs: number[]) => Math.max(...xs);
  const rows: Row[] = [
    goalRow({
      id: '4',
      figure: 'wallet authorized → "bound" painted (from the sandbox sending notifyAuthorization)',
      unit: 'ms',
      summary: s4,
      limit: 150,
      limitName: 'goal p50',
      goal: 'p50 ≤ 150 ms, p99 ≤ 400 ms',
      met: s4.median <= 150 && max(bound) <= 400,
      note: `max of ${bound.length} runs ${max(bound).toFixed(1)} ms (stands in for p99); relay applyToken + SSE + main + bridge push + paint`,
    }),
    goalRow({
      id: '5',
      figure: 'overlay opened → QR painted, prefetched (QR minted before; hash route to the overlay)',
      unit: 'ms',
      summary: s5p,
      limit: 100,
      goal: '≤ 100 ms',
      met: s5p.median <= 100,
      note: '',
    }),
    goalRow({
      id: '5',
      figure: 'overlay opened → QR painted, cold (wallet clicked → consult → QR)',
      unit: 'ms',
      summary: s5c,
      limit: 30,
      limitName: 'goal beyond consult',
      judged: s5cl.median,
      goal: '≤ 30 ms + consult',
      met: s5cl.median <= 30,
      note: `cold minus the relay's consult call: median ${s5cl.median.toFixed(1)} ms (consult itself ${(s5c.median - s5cl.median).toFixed(1)} ms); minus the relay's whole binding request (consult included): median ${summarise(coldLessRelay).median.toFixed(1)} ms`,
    }),
    goalRow({
      id: '6',
      figure: 'Buy clicked → "Paying…" painted',
      unit: 'ms',
      summary: s6a,
      limit: 50,
      goal: '≤ 50 ms',
      met: max(paying) <= 50,
      note: `max ${max(paying).toFixed(1)} ms`,
    }),
    goalRow({
      id: '6',
      figure: 'Buy clicked → result painted (sandbox delay 0)',
      unit: 'ms',
      summary: s6b,
      limit: 20,
      limitName: 'goal p50',
      goal: 'p50 ≤ 20 ms',
      met: s6b.median <= 20,
      note: `in all: relay pay + sandbox (child processes) + main + bridge + paint; the relay's pay request itself (sandbox included) median ${summarise(payServed).median.toFixed(1)} ms`,
    }),
    goalRow({
      id: '6',
      figure: 'Buy clicked → result painted, beyond relay + sandbox (minus the pay request as the relay timed it)',
      unit: 'ms',
      summary: s6c,
      limit: 20,
      limitName: 'goal p50',
      goal: 'p50 ≤ 20 ms',
      met: s6c.median <= 20,
      note: "click → bridge → main → relay request out, answer → main → bridge push → paint (the issue's row)",
    }),
  ];
  if (heapRow) rows.push(heapRow);
  for (const r of rows) console.log(`  #${r.id} ${r.figure}: ${r.summary.median.toFixed(1)} ${r.unit}`);
  return rows;
}
