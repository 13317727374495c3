import { readFileSync } from 'node:fs';

/**
 * The kernel's accept-queue counters for bench #3 (issue 17: "show the accept queue"): a
 * refusal that waits in the listen queue never reaches the relay's own timing, so the row shows
 * how many connections the kernel dropped or overflowed meanwhile. Read from /proc/net/netstat
 * (what `nstat` reads), so the bench needs no tool of its own. The counters are per network
 * namespace: anything else listening in it (another bench) adds to them.
 */
export const ACCEPT_QUEUE_COUNTERS = ['ListenOverflows', 'ListenDrops', 'TCPReqQFullDrop'] as const;
export type AcceptQueueCounter = (typeof ACCEPT_QUEUE_COUNTERS)[number];
export type AcceptQueue = Record<AcceptQueueCounter, number>;

/**
 * The TcpExt counters of a /proc/net/netstat text: pairs of lines, names then values, each
 * starting with its group (`TcpExt:`). A counter the kernel does not report is absent.
 */
export function parseNetstat(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    const names = (lines[i] as string).trim().split(/\s+/u);
    const values = (lines[i + 1] as string).trim().split(/\s+/u);
    if (names[0] !== 'TcpExt:' || values[0] !== 'TcpExt:' || names.length !== values.length) continue;
    for (let k = 1; k < names.length; k++) {
      const v = Number(values[k]);
      if (Number.isFinite(v)) out.set(names[k] as string, v);
    }
    i += 1;
  }
  return out;
}

/** The accept-queue counters now, or undefined when /proc/net/netstat cannot be read (not Linux). */
export function readAcceptQueue(read: () => string = () => readFileSync('/proc/net/netstat', 'utf8')): AcceptQueue | undefined {
  let text: string;
  try {
    text = read();
  } catch {
    return undefined;
  }
  const all = parseNetstat(text);
  const out = {} as AcceptQueue;
  for (const name of ACCEPT_QUEUE_COUNTERS) out[name] = all.get(name) ?? 0;
  return out;
}

/** The counters' growth from `before` to `after` (undefined when either could not be read). */
export function acceptQueueDelta(before: AcceptQueue | undefined, after: AcceptQueue | undefined): AcceptQueue | undefined {
  if (!before || !after) return undefined;
  const out = {} as AcceptQueue;
  for (const name of ACCEPT_QUEUE_COUNTERS) out[name] = after[name] - before[name];
  return out;
}

/** One note for a row: each counter's growth in each run, in nstat's names (`TcpExtListenOverflows 0/650/0`). */
export function acceptQueueNote(runs: readonly (AcceptQueue | undefined)[]): string {
  if (runs.length === 0 || runs.some((r) => r === undefined)) return 'accept queue: /proc/net/netstat not readable';
  const per = (name: AcceptQueueCounter): string => runs.map((r) => (r as AcceptQueue)[name]).join('/');
  return `accept queue growth per run: ${ACCEPT_QUEUE_COUNTERS.map((n) => `TcpExt${n} ${per(n)}`).join(', ')}`;
}
