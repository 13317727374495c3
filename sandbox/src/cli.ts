import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startSandbox } from './index.ts';

/**
 * `npm run sandbox -- --port 8081 --merchant-public-key merchant.pem ...`
 * Every flag has an environment variable (flags win): see sandbox/README.md.
 */
const HELP = `Antom sandbox (Scan to Bind)

  --host <addr>                  SANDBOX_HOST                 default 127.0.0.1 (0.0.0.0 for a phone on the LAN)
  --port <n>                     SANDBOX_PORT                 default 8081
  --data-dir <dir>               SANDBOX_DATA_DIR             default ./.sandbox-data
  --client-id <id>               SANDBOX_CLIENT_ID            default SANDBOX_5YTEST0000000001
  --merchant-public-key <file>   SANDBOX_MERCHANT_PUBLIC_KEY  merchant SPKI PEM (or base64 DER) file (required)
  --notify-time-scale <x>        SANDBOX_NOTIFY_TIME_SCALE    default 1 (0.001 compresses 2 min to 120 ms)
  --admin-token <token>          SANDBOX_ADMIN_TOKEN          default: generated and printed
  --public-base-url <url>        SANDBOX_PUBLIC_BASE_URL      base of QR URLs, e.g. http://192.168.1.20:8081
  --payment-delay-ms <n>         SANDBOX_PAYMENT_DELAY_MS     default 0
  --help
`;

const { values } = parseArgs({
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    'data-dir': { type: 'string' },
    'client-id': { type: 'string' },
    'merchant-public-key': { type: 'string' },
    'notify-time-scale': { type: 'string' },
    'admin-token': { type: 'string' },
    'public-base-url': { type: 'string' },
    'payment-delay-ms': { type: 'string' },
    help: { type: 'boolean' },
  },
  strict: true,
});

if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const env = process.env;
function num(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`${name} must be a non-negative number, got ${text}\n`);
    process.exit(2);
  }
  return n;
}

const keyFile = values['merchant-public-key'] ?? env['SANDBOX_MERCHANT_PUBLIC_KEY'];
if (!keyFile) {
  process.stderr.write(`--merchant-public-key <PEM file> is required\n\n${HELP}`);
  process.exit(2);
}

const host = values.host ?? env['SANDBOX_HOST'] ?? '127.0.0.1';
const port = num('--port', values.port ?? env['SANDBOX_PORT'], 8081);
const lan = Object.values(networkInterfaces())
  .flat()
  .filter((i) => i && i.family === 'IPv4' && !i.internal)
  .map((i) => i?.address);
// Listening on all interfaces without a public base URL: put the first LAN address into QR codes.
const lanBase = (host === '0.0.0.0' || host === '::') && port !== 0 && lan[0] ? `http://${lan[0]}:${port}` : undefined;
const sandbox = await startSandbox({
  host,
  port,
  dataDir: resolve(values['data-dir'] ?? env['SANDBOX_DATA_DIR'] ?? '.sandbox-data'),
  clientId: values['client-id'] ?? env['SANDBOX_CLIENT_ID'] ?? 'SANDBOX_5YTEST0000000001',
  merchantPublicKeyPem: readFileSync(resolve(keyFile), 'utf8'),
  notifyTimeScale: num('--notify-time-scale', values['notify-time-scale'] ?? env['SANDBOX_NOTIFY_TIME_SCALE'], 1) || 1,
  adminToken: values['admin-token'] ?? env['SANDBOX_ADMIN_TOKEN'],
  publicBaseUrl: values['public-base-url'] ?? env['SANDBOX_PUBLIC_BASE_URL'] ?? lanBase,
  paymentDelayMs: num('--payment-delay-ms', values['payment-delay-ms'] ?? env['SANDBOX_PAYMENT_DELAY_MS'], 0),
});

process.stdout.write(
  `${[
    `Antom sandbox listening on ${sandbox.url}  (client id ${sandbox.clientId})`,
    `  Home page:  ${sandbox.url}/  (what is open now, accounts, payments; loopback only)`,
    `  API:        ${sandbox.url}/ams/api/v1/...  and  ${sandbox.url}/ams/sandbox/api/v1/...`,
    `  Public key: ${sandbox.url}/sandbox/public-key.pem`,
    `  Admin API:  ${sandbox.url}/__admin  (loopback only)  Authorization: Bearer ${sandbox.adminToken}`,
    lanBase || values['public-base-url'] || env['SANDBOX_PUBLIC_BASE_URL']
      ? `  QR codes:   ${values['public-base-url'] ?? env['SANDBOX_PUBLIC_BASE_URL'] ?? lanBase}/wallet/scan/<codeId>`
      : '',
    host === '127.0.0.1' && lan.length > 0 ? `  Phone:      restart with --host 0.0.0.0 --public-base-url http://${lan[0]}:PORT` : '',
    '',
    sandbox.publicKeyPem,
  ]
    .filter((l) => l !== '')
    .join('\n')}\n`,
);

const stop = () => {
  void sandbox.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
