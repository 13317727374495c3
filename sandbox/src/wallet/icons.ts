/**
 * The status icons of the wallet pages as inline SVG. Emoji such as '✅' depend on a colour-emoji
 * font the phone or PC may not have (Debian's default fonts drew an empty box); inline SVG draws
 * the same everywhere and passes the pages' CSP (`default-src 'none'`), which an image URL would not.
 */
export type StatusIcon = 'ok' | 'declined' | 'gone' | 'warning';

const PATHS: Readonly<Record<StatusIcon, { colour: string; body: string }>> = {
  ok: {
    colour: '#1a7f37',
    body: '<circle cx="24" cy="24" r="22"/><path d="M13 25l7 7 15-16" fill="none" stroke="#fff" stroke-width="4.5" stroke-linecap="round" stroke-linejoin="round"/>',
  },
  declined: {
    colour: '#5b6475',
    body: '<circle cx="24" cy="24" r="22"/><path d="M16 16l16 16M32 16L16 32" stroke="#fff" stroke-width="4.5" stroke-linecap="round"/>',
  },
  gone: {
    colour: '#9a6700',
    body: '<circle cx="24" cy="24" r="22"/><path d="M24 12v13l8 5" fill="none" stroke="#fff" stroke-width="4.5" stroke-linecap="round" stroke-linejoin="round"/>',
  },
  warning: {
    colour: '#cf222e',
    body: '<path d="M24 3L46 43H2z" stroke-linejoin="round"/><path d="M24 17v12" stroke="#fff" stroke-width="4.5" stroke-linecap="round"/><circle cx="24" cy="36" r="2.8" fill="#fff"/>',
  },
};

/** An inline SVG icon, decorative (the heading beside it says the same in words). */
export function statusIcon(icon: StatusIcon, size = 56): string {
  const p = PATHS[icon];
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48" width="${size}" height="${size}" fill="${p.colour}" aria-hidden="true" focusable="false" data-icon="${icon}">${p.body}</svg>`;
}
