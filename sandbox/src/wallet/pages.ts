import { formatMoney, type Locale, money, walletInfo } from '@scan-to-bind/shared/domain';
import { isoWithOffset } from '../core/clock.ts';
import type { Account, AuthQrCode } from '../core/state.ts';
import { CODE_TTL_MS } from '../api/authorizations.ts';
import { maskLoginId } from './accounts.ts';
import { WALLET_COPY } from './copy.ts';
import { type StatusIcon, statusIcon } from './icons.ts';

/** The merchant name the wallet shows (the sandbox has one registered merchant). */
export const MERCHANT_NAME = 'Scan to Bind Demo Games';

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m);
}

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans TC","Noto Sans",sans-serif;background:#f2f4f7;color:#1d2433}
main{max-width:28rem;margin:0 auto;padding:1.25rem}
.card{background:#fff;border-radius:1rem;padding:1.25rem;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h1{font-size:1.35rem;margin:.25rem 0 1rem}.brand{font-weight:700;color:var(--brand)}
dl{margin:0 0 1rem}dt{font-size:.8rem;color:#5b6475}dd{margin:0 0 .6rem;font-weight:600}
label{display:block;font-size:.85rem;color:#5b6475;margin-bottom:.25rem}
select{width:100%;font-size:1rem;padding:.6rem;border-radius:.5rem;border:1px solid #c5cad3;margin-bottom:1rem;background:#fff}
.agreement{font-size:.95rem;background:#f7f8fa;border-radius:.5rem;padding:.75rem;margin:0 0 1rem}
.actions{display:flex;gap:.75rem}.actions form{flex:1}
button{width:100%;min-height:3rem;font-size:1.05rem;font-weight:600;border-radius:.75rem;border:0;cursor:pointer}
button:focus-visible{outline:3px solid #1d2433;outline-offset:2px}
.primary{background:var(--brand);color:#fff}.secondary{background:#e6e9ef;color:#1d2433}
.note{font-size:.8rem;color:#5b6475;text-align:center;margin-top:1rem}
.result{text-align:center}.result .icon{line-height:0;margin:.5rem 0}
@media (prefers-reduced-motion:no-preference){button{transition:filter .15s}button:hover{filter:brightness(.95)}}
`;

function page(locale: Locale, brand: string, title: string, content: string): string {
  const copy = WALLET_COPY[locale];
  return `<!doctype html>
<html lang="${locale}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body style="--brand:${brand}"><main>${content}<p class="note">${escapeHtml(copy.sandboxNote)}</p></main></body></html>`;
}

function brandColour(code: AuthQrCode | undefined): string {
  return code?.wallet === 'DANA' ? '#118eea' : '#1677ff';
}

/** The consent screen shown after a scan: merchant, wallet, scope, account, Authorize / Decline. */
export function consentPage(locale: Locale, code: AuthQrCode, accounts: readonly Account[]): string {
  const copy = WALLET_COPY[locale];
  const info = walletInfo(code.wallet);
  const q = `?lang=${encodeURIComponent(locale)}`;
  const options = accounts
    .filter((a) => a.wallet === code.wallet)
    .map((a) => {
      const balance = formatMoney(money(a.balance, info.currency), locale);
      const tier = a.tier ? ` · ${a.tier}` : '';
      return `<option value="${escapeHtml(a.loginId)}"${a.isDefault ? ' selected' : ''}>${escapeHtml(`${maskLoginId(a.loginId)} · ${a.displayName} · ${balance}${tier}`)}</option>`;
    })
    .join('');
  const base = `/wallet/scan/${encodeURIComponent(code.codeId)}`;
  const agreement = fill(copy.agreement, { merchant: MERCHANT_NAME, wallet: info.displayName });
  const content = `<div class="card">
<div class="brand">${escapeHtml(info.displayName)}</div>
<h1>${escapeHtml(copy.title)}</h1>
<dl><dt>${escapeHtml(copy.merchant)}</dt><dd>${escapeHtml(MERCHANT_NAME)}</dd>
<dt>${escapeHtml(copy.wallet)}</dt><dd>${escapeHtml(info.displayName)}</dd>
<dt>${escapeHtml(copy.scope)}</dt><dd>${escapeHtml(code.scopes.join(', '))}</dd>
<dt>${escapeHtml(copy.expiresIn)}</dt><dd>${escapeHtml(isoWithOffset(code.createdAt + CODE_TTL_MS, info.utcOffsetMinutes).slice(11, 16))}</dd></dl>
<p class="agreement">${escapeHtml(agreement)}</p>
<div class="actions">
<form method="post" action="${base}/decline${q}"><button class="secondary" type="submit">${escapeHtml(copy.decline)}</button></form>
<form method="post" action="${base}/authorize${q}" id="authorize"><button class="primary" type="submit">${escapeHtml(copy.authorize)}</button></form>
</div>
<label for="account" style="margin-top:1rem">${escapeHtml(copy.account)}</label>
<select id="account" name="account" form="authorize">${options}</select>
</div>`;
  return page(locale, brandColour(code), copy.title, content);
}

/** A result or refusal screen. */
export function resultPage(locale: Locale, code: AuthQrCode | undefined, icon: StatusIcon, heading: string, hint: string): string {
  const content = `<div class="card result"><div class="icon">${statusIcon(icon)}</div><h1>${escapeHtml(heading)}</h1><p>${escapeHtml(hint)}</p></div>`;
  return page(locale, brandColour(code), heading, content);
}
