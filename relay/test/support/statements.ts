import { AsyncLocalStorage } from 'node:async_hooks';
import { Server } from 'node:http';
import SQLite from 'better-sqlite3';
import pg from 'pg';

/** The database statements one HTTP request caused, by the text each began with. */
export interface StatementLog {
  statements: string[];
}

/**
 * Counts the statements sent to the database while the relay handles requests matching
 * `method` and `path` (in this process): every `pg.Client.query` call (one round trip each,
 * node-postgres never pipelines) and every better-sqlite3 statement run (`run`, `all`, `get`,
 * `iterate`; pragmas included). A request is followed from Node handing it to the server to
 * its last continuation through an AsyncLocalStorage context, so the worker, the watchers and
 * other requests (the sandbox's notifications) are not counted, and the Antom call sends no
 * statement. `stop()` restores the drivers.
 */
export function countRequestStatements(method: string, path: string): { logs: StatementLog[]; stop(): void } {
  const als = new AsyncLocalStorage<StatementLog>();
  const logs: StatementLog[] = [];
  const note = (text: unknown): void => {
    als.getStore()?.statements.push(String(text).slice(0, 60));
  };

  const emit = Server.prototype.emit as (this: Server, event: string, ...args: unknown[]) => boolean;
  Server.prototype.emit = function (this: Server, event: string, ...args: unknown[]) {
    const req = args[0] as { method?: string; url?: string } | undefined;
    if (event === 'request' && req?.method === method && req.url === path) {
      const log: StatementLog = { statements: [] };
      logs.push(log);
      return als.run(log, () => emit.call(this, event, ...args));
    }
    return emit.call(this, event, ...args);
  } as typeof Server.prototype.emit;

  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string };
    note(typeof first === 'string' ? first : first?.text);
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;

  const probe = new SQLite(':memory:');
  const statement = Object.getPrototypeOf(probe.prepare('select 1')) as Record<'run' | 'all' | 'get' | 'iterate', (...a: unknown[]) => unknown>;
  probe.close();
  const originals = { run: statement.run, all: statement.all, get: statement.get, iterate: statement.iterate };
  for (const name of ['run', 'all', 'get', 'iterate'] as const) {
    const original = originals[name];
    statement[name] = function (this: { source: string }, ...a: unknown[]) {
      note(this.source);
      return original.apply(this, a);
    };
  }

  return {
    logs,
    stop() {
      Server.prototype.emit = emit as typeof Server.prototype.emit;
      pg.Client.prototype.query = query;
      Object.assign(statement, originals);
    },
  };
}
