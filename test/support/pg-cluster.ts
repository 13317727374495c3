import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/*
 * A throwaway PostgreSQL cluster: initdb into a temp dir, loopback only, trust auth, fsync off,
 * removed by stop() (or when the process exits). `npm test` starts one when TEST_DATABASE_URL is
 * not given, and the chaos matrix starts its own for the rows that restart the server. initdb
 * refuses to run as root, so as root it runs as the `postgres` user (su), otherwise as the user.
 */
export interface PgCluster {
  url: string;
  /** `pg_ctl restart -m fast`: every session is terminated, the server comes back on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const isRoot = (): boolean => process.getuid?.() === 0;

/** Why a throwaway cluster cannot be made here, or undefined when it can. */
export function clusterSkip(): string | undefined {
  if (!existsSync('/usr/lib/postgresql') || readdirSync('/usr/lib/postgresql').length === 0) return 'PostgreSQL server binaries are not installed';
  if (isRoot()) {
    try {
      execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
    } catch {
      return 'there is no postgres user to run initdb as (initdb refuses root)';
    }
  }
  return undefined;
}

function pgBin(): string {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b));
  return `/usr/lib/postgresql/${versions.at(-1)}/bin`;
}

function shell(command: string): [string, string[]] {
  return isRoot() ? ['su', ['postgres', '-s', '/bin/sh', '-c', command]] : ['/bin/sh', ['-c', command]];
}

async function asOwner(command: string): Promise<void> {
  const [cmd, args] = shell(command);
  await exec(cmd, args, { timeout: 60_000 });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Starts a fresh cluster; `stop()` removes it. `fsync`: durable commits, as a production server runs (benchmarks); tests run without. */
export async function startCluster(options: { maxConnections?: number; fsync?: boolean } = {}): Promise<PgCluster> {
  const skip = clusterSkip();
  if (skip) throw new Error(`no throwaway PostgreSQL cluster: ${skip}`);
  const bin = pgBin();
  const work = mkdtempSync(join(tmpdir(), 'stb-pg-'));
  chmodSync(work, 0o755);
  const data = join(work, 'pg');
  const sock = join(work, 'sock');
  mkdirSync(data);
  mkdirSync(sock);
  if (isRoot()) {
    const uid = Number((await exec('id', ['-u', 'postgres'])).stdout);
    const gid = Number((await exec('id', ['-g', 'postgres'])).stdout);
    chownSync(data, uid, gid);
    chownSync(sock, uid, gid);
  }
  const port = await freePort();
  await asOwner(`${bin}/initdb -D '${data}' -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null`);
  const opts = `-c listen_addresses=127.0.0.1 -p ${port} -k ${sock} -c max_connections=${options.maxConnections ?? 100} -c fsync=${options.fsync ? 'on' : 'off'}`;
  const ctl = (action: string) =>
    asOwner(`${bin}/pg_ctl -D '${data}' -w -t 30 -l '${data}/server.log' ${action === 'stop' ? '-m immediate stop' : `-o "${opts}" ${action}`} >/dev/null`);
  await ctl('start');
  // A runner that dies (an uncaught error) must not leave the server running.
  const onExit = () => {
    try {
      const [cmd, args] = shell(`${bin}/pg_ctl -D '${data}' -m immediate stop >/dev/null 2>&1`);
      execFileSync(cmd, args);
    } catch {
      // already stopped
    }
    rmSync(work, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    restart: () => ctl('-m fast restart'),
    async stop() {
      process.off('exit', onExit);
      await ctl('stop').catch(() => undefined);
      rmSync(work, { recursive: true, force: true });
    },
  };
}
