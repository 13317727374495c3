import { writeFileSync } from 'node:fs';
import { load } from './load.ts';
import { cpuSeconds, startBenchStack, type Usage } from './stack.ts';

/**
 * `npm run bench:profile [sqlite|postgres] [seconds] [relay|sandbox]`: the bench stack of #1 under
 * pay load, with a CPU profile of the relay child (or of the sandbox child, which shares the
 * machine's cores with it). Prints that child's CPU per pay and the top self-time by package and
 * by function; writes the raw profile to test-results/<child>.cpuprofile (open it in Chrome's
 * DevTools). A diagnostic for making the relay faster, not a figure of the table.
 */
interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const engine = (process.argv[2] ?? 'sqlite') as 'sqlite' | 'postgres';
const seconds = Number(process.argv[3] ?? 5);
const who = process.argv[4] ?? 'relay';
if (who !== 'relay' && who !== 'sandbox') throw new Error('the child to profile is relay or sandbox');
if (engine === 'postgres' && !process.env['BENCH_DATABASE_URL']) throw new Error('BENCH_DATABASE_URL is needed for postgres');

/** Groups a script URL: a package name, the relay/sandbox/shared source tree, or node internals. */
function bucket(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith('node:')) return url;
  const m = /\/(relay|shared|sandbox|bench)\/src\/([^/]+)/u.exec(url) ?? /\/(bench)\/([^/]+)/u.exec(url);
  return m ? `${m[1]}/${m[2]}` : url;
}

const stack = await startBenchStack({ engine, paymentDelayMs: 20, devices: 8, limits: 'bench' });
try {
  await load({ url: stack.relayUrl, devices: stack.devices, kind: 'pay', connections: 32, duration: 2 });
  const before = await stack[who].call<Usage>('usage');
  const [profile, res] = await Promise.all([
    stack[who].call<Profile>('profile', { ms: seconds * 1000 }, (seconds + 30) * 1000),
    load({ url: stack.relayUrl, devices: stack.devices, kind: 'pay', connections: 48, duration: seconds }),
  ]);
  const after = await stack[who].call<Usage>('usage');
  const pays = res.byStatus[200] ?? 0;
  const cpu = cpuSeconds(before, after);
  console.log(
    `${engine}: ${pays} pays in ${res.seconds.toFixed(1)} s, ${who} CPU ${cpu.toFixed(2)} s → ${((cpu / pays) * 1000).toFixed(2)} ms per pay (user+system, all threads)`,
  );
  writeFileSync(`test-results/${who}.cpuprofile`, JSON.stringify(profile));

  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (const [i, id] of profile.samples.entries()) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byBucket = new Map<string, number>();
  const byFn = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id) as Node;
    const b = bucket(n.callFrame.url, n.callFrame.functionName);
    byBucket.set(b, (byBucket.get(b) ?? 0) + us);
    const f = `${n.callFrame.functionName || '(anonymous)'} ${b}:${n.callFrame.lineNumber + 1}`;
    byFn.set(f, (byFn.get(f) ?? 0) + us);
  }
  const top = (m: Map<string, number>, k: number): void => {
    for (const [name, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, k)) {
      console.log(`  ${((us / total) * 100).toFixed(1).padStart(5)} %  ${((us / 1000 / pays) * 1000).toFixed(0).padStart(5)} µs/pay  ${name}`);
    }
  };
  console.log(`main-thread samples: ${(total / 1e6).toFixed(2)} s\nby package / source folder:`);
  top(byBucket, 25);
  console.log('by function (self time):');
  top(byFn, 40);
} finally {
  await stack.close();
}
