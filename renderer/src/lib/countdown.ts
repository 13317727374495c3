/**
 * A countdown as m:ss. Plain digits, not Intl: every locale of the app writes these numbers
 * with Latin digits and no grouping (test/unit/renderer/countdown.test.ts holds this against
 * Intl), and a page's first Intl.NumberFormat costs ~15 ms of ICU set-up, which would land on
 * the first QR code shown.
 */
export function countdown(totalSeconds: number): string {
  const s = Math.max(0, Math.ceil(totalSeconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
