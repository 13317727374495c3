/**
 * A QR encoder for one job: the relay's code value, in byte mode, error correction level M,
 * versions 1–40 (ISO/IEC 18004). It replaces the `qrcode` package in the bundle because that
 * package alone cost a fifth of the renderer's 30 KB budget; the browser tests decode what it
 * draws from screenshot pixels, and a Node test compares it module-for-module with `qrcode`.
 */

/** Error-correction codewords per block at level M, by version (index 0 unused). */
const ECC_PER_BLOCK = [
  0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  28,
];
/** Error-correction blocks at level M, by version. */
const BLOCKS = [
  0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49,
];

/** Modules left for data and error correction once the function patterns are drawn. */
function rawModules(v: number): number {
  let n = (16 * v + 128) * v + 64;
  if (v >= 2) {
    const align = Math.floor(v / 7) + 2;
    n -= (25 * align - 10) * align - 55;
    if (v >= 7) n -= 36;
  }
  return n;
}

const dataCodewords = (v: number) => (rawModules(v) >> 3) - ECC_PER_BLOCK[v]! * BLOCKS[v]!;

/** Powers of 2 in GF(2^8) modulo x^8 + x^4 + x^3 + x^2 + 1 (twice over) and their logarithms. */
const EXP = new Uint8Array(510);
const LOG = new Uint8Array(256);
for (let i = 0, x = 1; i < 255; i++, x = (x << 1) ^ ((x >> 7) * 0x11d)) {
  EXP[i] = EXP[i + 255] = x;
  LOG[x] = i;
}

/** Multiplication in GF(2^8), by the tables. */
const gfMul = (x: number, y: number): number => (x && y ? EXP[LOG[x]! + LOG[y]!]! : 0);

function rsDivisor(degree: number): number[] {
  const d = new Array<number>(degree).fill(0);
  d[degree - 1] = 1;
  for (let i = 0; i < degree; i++) {
    for (let j = 0; j < degree; j++) {
      d[j] = gfMul(d[j]!, EXP[i]!) ^ d[j + 1]! /* undefined past the end: ^ reads it as 0 */;
    }
  }
  return d;
}

function rsRemainder(data: readonly number[], divisor: readonly number[]): number[] {
  const r = divisor.map(() => 0);
  for (const b of data) {
    const factor = b ^ r.shift()!;
    r.push(0);
    for (let i = 0; i < r.length; i++) r[i]! ^= gfMul(divisor[i]!, factor);
  }
  return r;
}

/** The data codewords with error correction, split in blocks and interleaved. */
function codewords(bytes: Uint8Array, v: number): number[] {
  const capacity = dataCodewords(v);
  const data: number[] = [];
  // Bits not yet in a whole byte: the low `held` bits of `acc`.
  let acc = 0;
  let held = 0;
  const put = (val: number, len: number) => {
    acc = (acc << len) | val;
    for (held += len; held >= 8; held -= 8) data.push((acc >>> (held - 8)) & 255);
  };
  put(4, 4);
  put(bytes.length, v < 10 ? 8 : 16);
  for (const b of bytes) put(b, 8);
  put(0, Math.min(4, (capacity - data.length) * 8 - held));
  put(0, (8 - held) % 8);
  for (let pad = 0xec; data.length < capacity; pad ^= 0xec ^ 0x11) data.push(pad);

  const blocks = BLOCKS[v]!;
  const eccLen = ECC_PER_BLOCK[v]!;
  const raw = rawModules(v) >> 3;
  const short = blocks - (raw % blocks);
  const shortLen = Math.floor(raw / blocks);
  const divisor = rsDivisor(eccLen);
  const all: number[][] = [];
  for (let i = 0, k = 0; i < blocks; i++) {
    const dat = data.slice(k, k + shortLen - eccLen + (i < short ? 0 : 1));
    k += dat.length;
    const ecc = rsRemainder(dat, divisor);
    if (i < short) dat.push(0);
    all.push(dat.concat(ecc));
  }
  const out: number[] = [];
  for (let i = 0; i < shortLen + 1; i++) {
    all.forEach((block, j) => {
      if (i !== shortLen - eccLen || j >= short) out.push(block[i]!);
    });
  }
  return out;
}

/** Whether module (row, col) flips under mask pattern m. */
function masked(m: number, r: number, c: number): boolean {
  switch (m) {
    case 0:
      return (r + c) % 2 === 0;
    case 1:
      return r % 2 === 0;
    case 2:
      return c % 3 === 0;
    case 3:
      return (r + c) % 3 === 0;
    case 4:
      return (Math.floor(r / 2) + Math.floor(c / 3)) % 2 === 0;
    case 5:
      return ((r * c) % 2) + ((r * c) % 3) === 0;
    case 6:
      return (((r * c) % 2) + ((r * c) % 3)) % 2 === 0;
    default:
      return (((r * c) % 3) + ((r + c) % 2)) % 2 === 0;
  }
}

/** The penalty of a finished symbol (N1 runs, N2 blocks, N3 finder look-alikes, N4 balance). */
function penalty(g: Uint8Array, n: number): number {
  let p = 0;
  let dark = 0;
  for (let a = 0; a < n; a++) {
    // h = 1: row a, where the 2×2 blocks and the dark modules are counted too; h = 0: column a.
    for (let h = 0; h < 2; h++) {
      let run = 0;
      let last = -1;
      let window = 0;
      for (let b = 0; b < n; b++) {
        const i = h ? a * n + b : b * n + a;
        const m = g[i]!;
        if (m === last) run++;
        else {
          if (run >= 5) p += run - 2;
          last = m;
          run = 1;
        }
        window = ((window << 1) & 0x7ff) | m;
        if (b >= 10 && (window === 0x5d0 || window === 0x05d)) p += 40;
        if (h) {
          dark += m;
          const s = a < n - 1 && b < n - 1 ? m + g[i + 1]! + g[i + n]! + g[i + n + 1]! : 1;
          if (s === 0 || s === 4) p += 3;
        }
      }
      if (run >= 5) p += run - 2;
    }
  }
  return p + Math.abs(Math.ceil((dark * 100) / (n * n) / 5) - 10) * 10;
}

/** The modules of a QR symbol for `text` (UTF-8, byte mode, level M): size and a getter. */
export function qrMatrix(text: string): { size: number; get: (row: number, col: number) => number } {
  const bytes = new TextEncoder().encode(text);
  let v = 1;
  while (4 + (v < 10 ? 8 : 16) + bytes.length * 8 > dataCodewords(v) * 8) {
    if (++v > 40) throw new RangeError('text too long for a QR code');
  }
  const n = v * 4 + 17;
  const mod = new Uint8Array(n * n);
  const fn = new Uint8Array(n * n);
  const set = (r: number, c: number, dark: boolean | number) => {
    mod[r * n + c] = dark ? 1 : 0;
    fn[r * n + c] = 1;
  };

  for (let i = 0; i < n; i++) {
    set(6, i, i % 2 === 0);
    set(i, 6, i % 2 === 0);
  }
  for (const [r, c] of [
    [3, 3],
    [3, n - 4],
    [n - 4, 3],
  ] as const) {
    for (let dr = -4; dr <= 4; dr++) {
      for (let dc = -4; dc <= 4; dc++) {
        const d = Math.max(Math.abs(dr), Math.abs(dc));
        if (r + dr >= 0 && r + dr < n && c + dc >= 0 && c + dc < n) set(r + dr, c + dc, d !== 2 && d !== 4);
      }
    }
  }
  if (v > 1) {
    const count = Math.floor(v / 7) + 2;
    const step = v === 32 ? 26 : Math.ceil((v * 4 + 4) / (count * 2 - 2)) * 2;
    const pos = [6];
    for (let p = n - 7; pos.length < count; p -= step) pos.splice(1, 0, p);
    pos.forEach((r, i) => {
      pos.forEach((c, j) => {
        if ((i === 0 && j === 0) || (i === 0 && j === count - 1) || (i === count - 1 && j === 0)) return;
        for (let dr = -2; dr <= 2; dr++) {
          for (let dc = -2; dc <= 2; dc++) set(r + dr, c + dc, Math.max(Math.abs(dr), Math.abs(dc)) !== 1);
        }
      });
    });
  }
  const format = (mask: number) => {
    let rem = mask;
    for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
    const bits = ((mask << 10) | rem) ^ 0x5412;
    for (let i = 0; i < 15; i++) {
      const bit = (bits >>> i) & 1;
      // Around the top-left finder (skipping the timing patterns), then split between the other two.
      set(i < 6 ? i : i < 8 ? i + 1 : 8, i < 8 ? 8 : i < 9 ? 7 : 14 - i, bit);
      set(i < 8 ? 8 : n - 15 + i, i < 8 ? n - 1 - i : 8, bit);
    }
    set(n - 8, 8, 1);
  };
  format(0);
  if (v >= 7) {
    let rem = v;
    for (let i = 0; i < 12; i++) rem = (rem << 1) ^ ((rem >>> 11) * 0x1f25);
    const bits = (v << 12) | rem;
    for (let i = 0; i < 18; i++) {
      const a = n - 11 + (i % 3);
      const b = Math.floor(i / 3);
      set(a, b, (bits >>> i) & 1);
      set(b, a, (bits >>> i) & 1);
    }
  }

  const data = codewords(bytes, v);
  let i = 0;
  for (let right = n - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    for (let vert = 0; vert < n; vert++) {
      for (let j = 0; j < 2; j++) {
        const c = right - j;
        const r = ((right + 1) & 2) === 0 ? n - 1 - vert : vert;
        if (!fn[r * n + c] && i < data.length * 8) {
          mod[r * n + c] = (data[i >>> 3]! >>> (7 - (i & 7))) & 1;
          i++;
        }
      }
    }
  }

  // The mask with the lowest penalty, format bits included, first one on a tie (as `qrcode`).
  // Each candidate is drawn once into its own array, which the penalty then only reads.
  let best = new Uint8Array(0);
  let lowest = Number.POSITIVE_INFINITY;
  for (let m = 0; m < 8; m++) {
    format(m);
    const g = mod.slice();
    for (let r = 0, i = 0; r < n; r++) for (let c = 0; c < n; c++, i++) if (!fn[i] && masked(m, r, c)) g[i]! ^= 1;
    const p = penalty(g, n);
    if (p < lowest) {
      lowest = p;
      best = g;
    }
  }
  return { size: n, get: (r, c) => best[r * n + c]! };
}

/** Modules of light margin around the symbol, as the QR specification asks. */
const QUIET = 4;

/** A QR symbol as one SVG path of dark modules, plus the side of the square in modules. */
export interface QrPath {
  size: number;
  d: string;
}

/** Encodes text into one SVG path: each run of dark modules in a row is one rectangle. */
export function qrPath(text: string): QrPath {
  const { size: n, get } = qrMatrix(text);
  let d = '';
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; ) {
      if (!get(y, x)) {
        x++;
        continue;
      }
      const start = x;
      while (x < n && get(y, x)) x++;
      d += `M${start + QUIET} ${y + QUIET}h${x - start}v1h${start - x}z`;
    }
  }
  return { size: n + 2 * QUIET, d };
}
