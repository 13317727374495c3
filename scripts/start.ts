import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startPreview } from '../main/dev/preview.ts';
import { startDevStack } from './dev-stack.ts';
import { findElectronBinary, NO_ELECTRON_MESSAGE } from './electron-binary.ts';
import { openBrowser } from './open-browser.ts';

/**
 * `npm start`: the main job on the embedded default. Starts the Antom sandbox and the merchant
 * relay (SQLite in the data dir) on loopback — or on the LAN with --lan, so a real phone can
 * scan the QR — mints an enrolment code for this PC, and opens the Electron app, handing it the
 * code in a 0600 file written only when the app starts. Where Electron cannot run (or with
 * --preview) it opens the browser preview instead: the built renderer with main's real services
 * behind a loopback bridge (main/dev/preview.ts), in a browser window when a display exists.
 * --no-app runs the services only. Everything stops on Ctrl-C.
 */
const USAGE = `npm start -- [--lan] [--mode window|overlay|kiosk] [--data-dir .data] [--sandbox-port 8081] [--relay-port 8787] [--preview] [--no-browser] [--no-app]`;

function fail(message: string): never {
  console.error(`npm start: ${message}\n${USAGE}`);
  process.exit(2);
}

let args: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      lan: { type: 'boolean', default: false },
      mode: { type: 'string', default: 'window' },
      'data-dir': { type: 'string', default: '.data' },
      'sandbox-port': { type: 'string', default: '8081' },
      'relay-port': { type: 'string', default: '8787' },
      'no-app': { type: 'boolean', default: false },
      preview: { type: 'boolean', default: false },
      'no-browser': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
}
try {
  args = parse();
} catch (err) {
  fail((err as Error).message);
}
if (args.values.help) {
  console.log(USAGE);
  process.exit(0);
}
const mode = args.values.mode;
if (mode !== 'window' && mode !== 'overlay' && mode !== 'kiosk') fail(`--mode must be window, overlay or kiosk, not ${mode}`);
const port = (name: 'sandbox-port' | 'relay-port'): number => {
  const text = args.values[name] ?? '';
  const n = Number(text);
  if (!/^\d{1,5}$/.test(text) || n > 65535) fail(`--${name} must be a port number (0 = any free port), not ${text}`);
  return n;
};

const dataDir = resolve(args.values['data-dir'] ?? '.data');
const appDir = join(dataDir, 'app');
mkdirSync(appDir, { recursive: true, mode: 0o700 });
const handoverFile = join(appDir, 'handover.json');
// The handover holds a live enrolment code: it exists only while an app is about to read it
// (the app deletes it once read). One an earlier run left behind goes now, and ours on exit.
rmSync(handoverFile, { force: true });

const stack = await startDevStack({
  dataDir,
  lan: args.values.lan,
  sandboxPort: port('sandbox-port'),
  relayPort: port('relay-port'),
  deviceKind: mode === 'kiosk' ? 'kiosk' : 'launcher',
  logLevel: 'warn',
});

let closing = false;
const onClose: Array<() => Promise<void>> = [];
async function shutdown(code: number): Promise<never> {
  if (!closing) {
    closing = true;
    rmSync(handoverFile, { force: true });
    for (const close of onClose) await close().catch(() => undefined);
    await stack.close();
  }
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

console.log(`sandbox (Antom + wallet pages): ${stack.sandbox.url}  admin token: ${stack.sandbox.adminToken}`);
console.log(`relay: ${stack.relayUrl}  enrolment code for this PC: ${stack.enrollCode}`);
// The stand-in for a studio's game server: what a launcher asks for its player assertions.
if (stack.deviceKind === 'launcher') console.log(`demo studio (player assertions): ${stack.devStudio.url}  token: ${stack.devStudio.token}`);
console.log(`relay admin and metrics (loopback only): ${stack.relay.adminUrl}`);

/** Builds the bundles the app or the preview runs from (out/); a fresh clone has none. */
async function build(script: 'build' | 'build:renderer'): Promise<void> {
  const built = spawnSync('npm', ['run', '--silent', script], { stdio: 'inherit' });
  if (built.status !== 0) {
    console.error('npm start: the build failed; see above.');
    await shutdown(1);
  }
}

const electron = args.values['no-app'] || args.values.preview ? null : findElectronBinary();
if (args.values['no-app']) {
  console.log('ready: services running; Ctrl-C stops them.');
} else if (!electron) {
  if (!args.values.preview) console.log(NO_ELECTRON_MESSAGE);
  await build('build:renderer');
  const preview = await startPreview({
    relayUrl: stack.appRelayUrl,
    enrollCode: stack.enrollCode,
    mode,
    ...(stack.deviceKind === 'launcher' ? { devStudio: { url: stack.devStudio.url, token: stack.devStudio.token } } : {}),
    dataDir: join(dataDir, 'preview'),
    rendererDir: resolve('out/renderer'),
  }).catch(async (error: Error) => {
    console.error(`npm start: the browser preview did not start: ${error.message}`);
    return shutdown(1);
  });
  onClose.push(() => preview.close());
  if (preview.keychain === 'memory')
    console.log('keychain: the OS keychain is missing or locked, so the preview keeps its secrets in memory for this run (the page says so).');
  console.log(`browser preview (${mode}): ${preview.enterUrl}`);
  if (!args.values['no-browser']) openBrowser(preview.enterUrl, join(dataDir, 'preview', 'browser'));
  console.log('ready: preview running; Ctrl-C stops it.');
} else {
  // The app runs from the bundles in out/; build them first so a fresh clone starts.
  await build('build');
  writeFileSync(
    handoverFile,
    JSON.stringify({
      // The app on this PC reaches the relay on loopback even with --lan: a development client
      // accepts plain http to loopback only (main/services/relay-url-policy.ts).
      relayUrl: stack.appRelayUrl,
      enrollCode: stack.enrollCode,
      mode,
      // The app enrols with the code, then asks the demo studio for each device-pinned assertion.
      ...(stack.deviceKind === 'launcher' ? { devStudio: { url: stack.devStudio.url, token: stack.devStudio.token } } : {}),
    }),
    { mode: 0o600 },
  );
  const child = spawn(electron, ['out/main/index.js', ...(mode === 'window' ? [] : [`--${mode}`])], {
    stdio: 'inherit',
    env: { ...process.env, SCAN_TO_BIND_HANDOVER: handoverFile, SCAN_TO_BIND_USER_DATA: appDir },
  });
  console.log('ready: app started.');
  child.on('exit', (code) => void shutdown(code ?? 0));
}
