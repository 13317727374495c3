import { readFileSync } from 'node:fs';
import { startRelay } from '../relay/src/index.ts';

/*
 * One relay in its own process, for the SIGKILL rows of the chaos matrix:
 *   node --import tsx chaos/relay-process.ts <config.json>
 * Logs (pino JSON) go to stdout; when listening it prints `CHAOS_RELAY_READY <url> <adminUrl>`.
 * SIGTERM closes it gracefully. RELAY_CHAOS_CRASH_AT (see relay/src/chaos-hook.ts) makes the
 * payment path SIGKILL this process at one crash point.
 */
const file = process.argv[2];
if (!file) throw new Error('usage: relay-process.ts <config.json>');
const relay = await startRelay(JSON.parse(readFileSync(file, 'utf8')));
process.stdout.write(`CHAOS_RELAY_READY ${relay.url} ${relay.adminUrl}\n`);
process.once('SIGTERM', () => {
  void relay.close().then(() => process.exit(0));
});
