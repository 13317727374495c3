import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './stack.ts';

const exec = promisify(execFile);

/*
 * A throwaway PostgreSQL cluster the matrix owns (so it may restart it), made the way .ci/run
 * makes CI's: initdb as the postgres user into a temp dir, loopback only, trust auth, fsync off.
 */
export interface PgCluster {
  url: string;
  /** `pg_ctl restart -m fast`: every session is terminated, the server comes back on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Why a throwaway cluster cannot be made here, or undefined when it can. */
export function clusterSkip(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (initdb runs as the postgres user via su)';
  if (!existsSync('/usr/lib/postgresql')) return 'PostgreSQL server binaries are not installed';
  return undefined;
}

function pgBin(): string {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b));
  return `/usr/lib/postgresql/${versions.at(-1)}/bin`;
}

async function asPostgres(command: string): Promise<void> {
  await exec('su', ['postgres', '-s', '/bin/sh', '-c', command], { timeout: 60_000 });
}

/** Starts a fresh cluster; `stop()` removes it. */
export async function startCluster(): Promise<PgCluster> {
  const skip = clusterSkip();
  if (skip) throw new Error(`no throwaway PostgreSQL cluster: ${skip}`);
  const bin = pgBin();
  const work = mkdtempSync(join(tmpdir(), 'chaos-pg-'));
  chmodSync(work, 0o755);
  const data = join(work, 'pg');
  const sock = join(work, 'sock');
  mkdirSync(data);
  mkdirSync(sock);
  const { uid, gid } = await exec('id', ['-u', 'postgres']).then(async (u) => ({ uid: Number(u.stdout), gid: Number((await exec('id', ['-g', 'postgres'])).stdout) }));
  chownSync(data, uid, gid);
  chownSync(sock, uid, gid);
  const port = await freePort();
  await asPostgres(`${bin}/initdb -D '${data}' -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null`);
  const opts = `-c listen_addresses=127.0.0.1 -p ${port} -k ${sock} -c max_connections=100 -c fsync=off`;
  const ctl = (action: string) => asPostgres(`${bin}/pg_ctl -D '${data}' -w -t 30 -l '${data}/server.log' ${action === 'stop' ? '-m immediate stop' : `-o "${opts}" ${action}`} >/dev/null`);
  await ctl('start');
  // A runner that dies mid-row (an uncaught error) must not leave the server running.
  const onExit = () => {
    try {
      execFileSync('su', ['postgres', '-s', '/bin/sh', '-c', `${bin}/pg_ctl -D '${data}' -m immediate stop >/dev/null 2>&1`]);
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
