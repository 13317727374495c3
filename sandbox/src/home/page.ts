import { formatMoney, isCurrencyCode, type Locale, LOCALES, money, walletInfo } from '@scan-to-bind/shared/domain';
import QRCode from 'qrcode';
import { CODE_TTL_MS } from '../api/authorizations.ts';
import type { SandboxContext } from '../core/context.ts';
import type { AuthQrCode, NotificationRecord, PaymentRecord } from '../core/state.ts';
import { escapeHtml } from '../wallet/pages.ts';
import { HOME_COPY } from './copy.ts';

/** Rows shown of the payments and of the notifications (newest first). */
export const RECENT_ROWS = 10;

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans TC","Noto Sans",sans-serif;background:#f2f4f7;color:#1d2433}
main{max-width:64rem;margin:0 auto;padding:1.25rem}header{display:flex;flex-wrap:wrap;align-items:baseline;gap:.5rem 1rem}
h1{font-size:1.5rem;margin:.25rem 0}h2{font-size:1.1rem;margin:0 0 .75rem}nav a{margin-right:.75rem}
section{background:#fff;border-radius:1rem;padding:1rem 1.25rem;margin:1rem 0;box-shadow:0 1px 3px rgba(0,0,0,.08)}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e6e9ef;vertical-align:top}
th{font-size:.8rem;color:#5b6475;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.codes{display:flex;flex-wrap:wrap;gap:1rem}.code{border:1px solid #e6e9ef;border-radius:.75rem;padding:.75rem;width:15rem}
.code svg{width:100%;height:auto;display:block;background:#fff}.muted{color:#5b6475;font-size:.85rem}
code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}pre{background:#f7f8fa;padding:.75rem;border-radius:.5rem;overflow-x:auto}
a{color:#0b57d0}a:focus-visible{outline:3px solid #1d2433;outline-offset:2px}
`;

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m);
}

/** Minor units as the wallet shows them (HK$12.00, Rp 15.000), or the raw figure for an unknown currency. */
function shownAmount(minor: number, currency: string, locale: Locale): string {
  return isCurrencyCode(currency) ? formatMoney(money(minor, currency), locale) : `${minor} ${currency}`;
}

function when(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

/** The codes a phone could still authorize: pending and younger than their 15 minutes. */
export function openCodes(codes: readonly AuthQrCode[], now: number): AuthQrCode[] {
  return codes.filter((c) => c.status === 'PENDING' && now < c.createdAt + CODE_TTL_MS);
}

async function codeCard(c: AuthQrCode, base: string, locale: Locale): Promise<string> {
  const copy = HOME_COPY[locale];
  const url = `${base}/wallet/scan/${encodeURIComponent(c.codeId)}`;
  const svg = await QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  const label = `${walletInfo(c.wallet).displayName} ${c.codeId}`;
  return `<div class="code" data-code="${escapeHtml(c.codeId)}"><div role="img" aria-label="${escapeHtml(`QR: ${label}`)}">${svg}</div>
<div><strong>${escapeHtml(walletInfo(c.wallet).displayName)}</strong> <span class="muted">${escapeHtml(fill(copy.validUntil, { time: when(c.createdAt + CODE_TTL_MS).slice(11) }))}</span></div>
<div><a href="${escapeHtml(`${url}?lang=${encodeURIComponent(locale)}`)}">${escapeHtml(copy.openOnPhone)}</a></div></div>`;
}

function paymentRows(payments: readonly PaymentRecord[], locale: Locale): string {
  return payments
    .slice(-RECENT_ROWS)
    .reverse()
    .map(
      (p) =>
        `<tr><td>${when(p.createdAt)}</td><td>${escapeHtml(walletInfo(p.wallet).displayName)}</td><td class="num">${escapeHtml(shownAmount(p.amount, p.currency, locale))}</td><td>${escapeHtml(p.status)}</td><td><code>${escapeHtml(p.resultCode)}</code></td></tr>`,
    )
    .join('');
}

function notificationRows(notifications: readonly NotificationRecord[]): string {
  return notifications
    .slice(-RECENT_ROWS)
    .reverse()
    .map((n) => {
      const last = n.attempts.at(-1);
      const status = last?.httpStatus !== undefined ? `${n.status} (HTTP ${last.httpStatus})` : n.status;
      return `<tr><td>${when(n.createdAt)}</td><td><code>${escapeHtml(n.kind)}</code></td><td>${escapeHtml(status)}</td><td class="num">${n.attempts.length}</td></tr>`;
    })
    .join('');
}

function table(head: readonly string[], rows: string, empty: string): string {
  if (rows === '') return `<p class="muted">${escapeHtml(empty)}</p>`;
  return `<table><thead><tr>${head.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table>`;
}

/**
 * The sandbox's home page (`GET /`): what it is, the demo accounts and balances, the codes open
 * now with a QR and a link to each phone page, recent payments and notifications, and how to
 * reach the admin controls. Server-rendered, no script (the wallet pages' CSP applies).
 */
export async function homePage(ctx: SandboxContext, locale: Locale, listenUrl: string): Promise<string> {
  const copy = HOME_COPY[locale];
  const { state } = ctx.store;
  const base = ctx.publicBaseUrl.replace(/\/+$/u, '');
  const accounts = state.accounts
    .map((a) => {
      const info = walletInfo(a.wallet);
      return `<tr><td>${escapeHtml(info.displayName)}</td><td><code>${escapeHtml(a.loginId)}</code></td><td>${escapeHtml(a.displayName)}</td><td class="num">${escapeHtml(shownAmount(a.balance, info.currency, locale))}</td><td>${escapeHtml(a.tier ?? '')}</td></tr>`;
    })
    .join('');
  const cards = await Promise.all(openCodes(state.codes, ctx.clock.now()).map((c) => codeCard(c, base, locale)));
  const languages = LOCALES.map((l) => (l === locale ? `<strong>${l}</strong>` : `<a href="/?lang=${encodeURIComponent(l)}" hreflang="${l}">${l}</a>`)).join(
    ' · ',
  );
  const admin = `curl -H "Authorization: Bearer $TOKEN" ${listenUrl}/__admin/state
curl -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"endpoint":"pay","mode":"U","count":1}' ${listenUrl}/__admin/faults
curl -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"advanceMs":900000}' ${listenUrl}/__admin/clock
curl -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"loginId":"852-6123-8812","balance":{"currency":"HKD","value":"1000000"}}' ${listenUrl}/__admin/accounts/balance`;
  return `<!doctype html>
<html lang="${locale}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(copy.title)}</title><style>${STYLE}</style></head>
<body><main>
<header><h1>${escapeHtml(copy.title)}</h1><nav aria-label="language">${languages}</nav><a href="/?lang=${encodeURIComponent(locale)}">${escapeHtml(copy.refresh)}</a></header>
<p>${escapeHtml(copy.intro)}</p>
<p class="muted">${escapeHtml(fill(copy.phoneBase, { url: base }))} ${escapeHtml(copy.lanHint)}</p>
<section aria-labelledby="codes"><h2 id="codes">${escapeHtml(copy.openCodes)}</h2>
${cards.length > 0 ? `<p class="muted">${escapeHtml(copy.scanHint)}</p><div class="codes">${cards.join('')}</div>` : `<p class="muted">${escapeHtml(copy.noOpenCodes)}</p>`}</section>
<section aria-labelledby="accounts"><h2 id="accounts">${escapeHtml(copy.accounts)}</h2>
${table([copy.wallet, copy.loginId, copy.name, copy.balance, copy.tier], accounts, '')}</section>
<section aria-labelledby="payments"><h2 id="payments">${escapeHtml(copy.payments)}</h2>
${table([copy.time, copy.wallet, copy.amount, copy.status, copy.result], paymentRows(state.payments, locale), copy.noPayments)}</section>
<section aria-labelledby="notifications"><h2 id="notifications">${escapeHtml(copy.notifications)}</h2>
${table([copy.time, copy.kind, copy.status, copy.attempts], notificationRows(state.notifications), copy.noNotifications)}</section>
<section aria-labelledby="admin"><h2 id="admin">${escapeHtml(copy.admin)}</h2>
<p>${escapeHtml(copy.adminIntro)}</p><pre>${escapeHtml(admin)}</pre></section>
</main></body></html>`;
}
