import { createHmac, generateKeyPairSync, sign, verify } from 'node:crypto';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';

/**
 * The irreducible CPU of one pay, measured piece by piece in the bench process (servers idle):
 * what any relay must do per pay under Antom's protocol and the product's rules, with none of ours.
 *
 * - one RSA-2048/SHA-256 signature (the pay request) and two verifications (the pay answer and
 *   the notifyPayment);
 * - three HTTP exchanges on loopback with kept-alive connections: the device's pay request
 *   (server side), the pay call (client side), the notification (server side). Measured as
 *   whole in-process exchanges (client and server both in this process), each relay exchange
 *   counted as half of one, so 1.5 exchanges;
 * - the HMAC of the device's request;
 * - two durable SQLite commits (WAL): the intent before the pay call and the outcome after it,
 *   each one row in a small table (the relay's rows touch more pages). Measured two ways: each
 *   commit fsynced alone (synchronous=FULL), and grouped as the relay does since issue 17
 *   (synchronous=NORMAL, then one fdatasync per `batch` commits: store/wal-barrier.ts), with
 *   `batch` the commits per flush the relay reached under #1's load (groupedCommitUs).
 *
 * Not counted: JSON, validation, routing, limits, logging, metrics, the database reads.
 * The sum is a ceiling for relay pays per CPU-second: no relay can beat it on this machine.
 */
export interface Floor {
  signUs: number;
  verifyUs: number;
  exchangeUs: number;
  hmacUs: number;
  /** One durable commit fsynced alone (synchronous=FULL). */
  commitUs: number;
  /** CPU per pay: sign + 2 verify + 1.5 exchanges + hmac + 2 commits fsynced alone. */
  perPayUs: number;
}

/** The floor with group commit: the two commits share their flush with `batch - 1` others. */
export interface GroupedFloor {
  /** Commits per WAL flush (the relay's, measured under load). */
  batch: number;
  /** One durable commit when `batch` share one flush. */
  commitUs: number;
  /** CPU per pay: the floor's with its two commits grouped. */
  perPayUs: number;
}

const cpuUs = (f: () => void, n: number): number => {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
};

async function exchangeUs(n: number): Promise<number> {
  const body = JSON.stringify({ paymentRequestId: 'pay_0123456789abcdef', paymentAmount: { currency: 'HKD', value: '10' }, pad: 'x'.repeat(600) });
  const answer = JSON.stringify({ result: { resultStatus: 'S', resultCode: 'SUCCESS', resultMessage: 'success' }, paymentId: 'p'.repeat(32) });
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'response-time': '1700000000000', signature: 's'.repeat(360) });
      res.end(answer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true });
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/ams/api/v1/payments/pay',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', signature: 's'.repeat(360) },
        },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  for (let i = 0; i < 200; i++) await one();
  const c0 = process.cpuUsage();
  // 8 in flight, like a loaded relay.
  let left = n;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (left-- > 0) await one();
    }),
  );
  const c = process.cpuUsage(c0);
  agent.destroy();
  server.close();
  return (c.user + c.system) / n;
}

/**
 * CPU per durable commit of one row: `batch` undefined, each commit fsyncs the WAL itself
 * (synchronous=FULL); otherwise commits run synchronous=NORMAL and every `batch` of them is
 * followed by one fdatasync of the WAL (the relay's group commit, run here on the main thread:
 * process CPU counts libuv's pool threads the same).
 */
function commitUs(n: number, batch?: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'bench-floor-'));
  try {
    const file = join(dir, 'floor.sqlite');
    const db = new SQLite(file);
    db.pragma('journal_mode = WAL');
    db.pragma(batch === undefined ? 'synchronous = FULL' : 'synchronous = NORMAL');
    db.exec('create table t (id text primary key, state text, amount integer)');
    const wal = openSync(`${file}-wal`, 'r');
    const ins = db.prepare('insert into t values (?, ?, ?)');
    let i = 0;
    const total = batch === undefined ? n : Math.ceil(n / batch) * batch;
    const us = cpuUs(() => {
      db.exec('BEGIN');
      ins.run(`k${i++}`, 'SUBMITTED', 10);
      db.exec('COMMIT');
      if (batch !== undefined && i % batch === 0) fdatasyncSync(wal);
    }, total);
    closeSync(wal);
    db.close();
    return us;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The floor with its two commits grouped `batch` to a flush (≈ 0.5 s); `batch` is rounded to a whole number ≥ 1. */
export function groupedFloor(floor: Floor, batch: number, quick: boolean): GroupedFloor {
  const b = Math.max(1, Math.round(batch));
  const grouped = commitUs(quick ? 300 : 1_000, b);
  return { batch: b, commitUs: grouped, perPayUs: floor.perPayUs - 2 * floor.commitUs + 2 * grouped };
}

/** Measures the floor (≈ 2 s). */
export async function measureFloor(quick: boolean): Promise<Floor> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const content = Buffer.from(`POST /ams/api/v1/payments/pay\nSANDBOX_X.1700000000000.${'{"paymentRequestId":"x"}'.repeat(20)}`);
  const signature = sign('sha256', content, privateKey);
  const n = quick ? 200 : 600;
  const signUs = cpuUs(() => sign('sha256', content, privateKey), n);
  const verifyUs = cpuUs(() => verify('sha256', content, publicKey, signature), n * 4);
  const hmacUs = cpuUs(() => createHmac('sha256', 'k'.repeat(43)).update(content).digest('base64url'), n * 10);
  const exUs = await exchangeUs(quick ? 1_000 : 3_000);
  const cUs = commitUs(quick ? 300 : 1_000);
  return { signUs, verifyUs, exchangeUs: exUs, hmacUs, commitUs: cUs, perPayUs: signUs + 2 * verifyUs + 1.5 * exUs + hmacUs + 2 * cUs };
}
