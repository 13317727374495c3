import { describe, expect, it } from 'vitest';
import { Announcer } from '../src/change-watcher.ts';

// PostgreSQL refuses a NOTIFY payload of 8000 bytes or more: a burst of changes is split into
// notifications that each fit, and together carry every change once.
describe('change announcer', () => {
  it('splits a burst into payloads under 8000 bytes that together carry every change once, one statement at a time', async () => {
    const sent: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const announcer = new Announcer('origin-1', async (payload) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      sent.push(payload);
      inFlight--;
    });
    const changes = Array.from({ length: 400 }, (_, i) => ['purchase', `intent-${i}-${'x'.repeat(60)}`, `device:${'d'.repeat(40)}-é`, i] as const);
    for (const c of changes) announcer.add([...c]);
    const until = Date.now() + 5_000;
    while (sent.length === 0 || inFlight > 0 || sent.flatMap((p) => (JSON.parse(p) as { c: unknown[] }).c).length < changes.length) {
      if (Date.now() > until) throw new Error(`only ${sent.length} payloads`);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(sent.length).toBeGreaterThan(1);
    for (const p of sent) expect(Buffer.byteLength(p)).toBeLessThan(8_000);
    const carried = sent.flatMap((p) => (JSON.parse(p) as { o: string; c: unknown[] }).c);
    expect(carried).toEqual(changes.map((c) => [...c]));
    expect(sent.every((p) => (JSON.parse(p) as { o: string }).o === 'origin-1')).toBe(true);
    expect(maxInFlight).toBe(1);
  });
});
