import { createRequire } from 'node:module';
import type { QRCode, QRCodeOptions } from 'qrcode';
import { expect, test } from '@playwright/test';
import { qrMatrix } from '../../renderer/src/lib/qr.ts';

// The renderer's own byte-mode encoder against the `qrcode` package, module for module, for
// every version from 1 to 40 and for text outside ASCII.
const require = createRequire(import.meta.url);
const { create } = require('qrcode/lib/core/qrcode.js') as {
  create(data: { data: string; mode: 'byte' }[], options: QRCodeOptions): QRCode;
};

function sample(length: number): string {
  let s = 'https://render.alipay.hk/p/s/ulink/sn?code=';
  for (let i = 0; s.length < length; i++) s += 'aZ09-_.~'[(i * 7 + length) % 8];
  return s.slice(0, length);
}

test('the renderer encodes exactly what qrcode encodes, versions 1–40', () => {
  const texts = [
    'a',
    'DANA 你好 Rp 15.000 ✓',
    ...[10, 14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412, 450, 504, 560, 624, 666, 711],
    ...[779, 857, 911, 997, 1059, 1125, 1190, 1264, 1370, 1452, 1538, 1628, 1722, 1809, 1911, 1989, 2099, 2213, 2331],
  ].map((t) => (typeof t === 'number' ? sample(t) : t));
  const versions = new Set<number>();
  for (const text of texts) {
    const ours = qrMatrix(text);
    const ref = create([{ data: text, mode: 'byte' }], { errorCorrectionLevel: 'M' });
    versions.add(ref.version);
    expect(ours.size, text.slice(0, 20)).toBe(ref.modules.size);
    const diff: string[] = [];
    for (let r = 0; r < ours.size; r++) {
      for (let c = 0; c < ours.size; c++) {
        if (ours.get(r, c) !== ref.modules.get(r, c)) diff.push(`${r},${c}`);
      }
    }
    expect(diff.slice(0, 5), `version ${ref.version}`).toEqual([]);
  }
  expect(versions.size).toBe(40);
  expect(() => qrMatrix(sample(2332))).toThrow(RangeError);
});
