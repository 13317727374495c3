import type { Compilable, CompiledQuery, Kysely } from 'kysely';
import type { Dialect } from './db.ts';
import type { Database } from './schema.ts';

/** Marks a named argument while a prepared query is built; never sent to a database. */
const MARK = '\u0000prepared-arg:';

/** Builds the query once per dialect; `arg(name)` stands for a value given at run time. */
type Builder<A, R> = (db: Kysely<Database>, arg: <K extends keyof A & string>(name: K) => A[K], dialect: Dialect) => Compilable<R>;

/** Where each parameter of the compiled SQL comes from: a named argument or a constant. */
type Slot = { arg: string } | { value: unknown };

/**
 * A hot-path query built and compiled by Kysely once per SQL dialect, then run with new
 * arguments: the same SQL text and the same parameter order as Kysely produces, without
 * building and compiling the query tree on every call (Kysely's build + compile was ~11 % of
 * the relay's CPU per pay, docs/benchmarks.md).
 *
 * `build` receives the database (or transaction), `arg(name)` (a placeholder for a value given
 * at run time) and the dialect. Every argument must reach the SQL as a bound parameter (a value in
 * `where`, `values`, `set` or a `sql` template); a placeholder Kysely would inline or transform
 * is refused when the query is first compiled, and an argument missing at run time throws.
 * The query's shape must not depend on the arguments (same columns, same list lengths).
 */
export class Prepared<A extends object, R> {
  readonly #build: Builder<A, R>;
  readonly #compiled = new Map<Dialect, { query: CompiledQuery<R>; slots: Slot[] }>();

  constructor(build: Builder<A, R>) {
    this.#build = build;
  }

  /** Runs the query on `db` (a database or a transaction) of `dialect`; returns its rows. */
  async execute(db: Kysely<Database>, dialect: Dialect, args: A): Promise<{ rows: R[]; numAffectedRows?: bigint }> {
    const { query, slots } = this.#compile(db, dialect);
    const given = args as Record<string, unknown>;
    const parameters = slots.map((s) => {
      if ('value' in s) return s.value;
      const v = given[s.arg];
      if (v === undefined) throw new Error(`prepared query: argument ${s.arg} missing`);
      return v;
    });
    return db.executeQuery<R>({ ...query, parameters });
  }

  /** The first row, or undefined. */
  async first(db: Kysely<Database>, dialect: Dialect, args: A): Promise<R | undefined> {
    return (await this.execute(db, dialect, args)).rows[0];
  }

  #compile(db: Kysely<Database>, dialect: Dialect): { query: CompiledQuery<R>; slots: Slot[] } {
    let done = this.#compiled.get(dialect);
    if (done) return done;
    const names = new Set<string>();
    const query = this.#build(
      db,
      (name) => {
        names.add(name);
        return `${MARK}${name}` as never;
      },
      dialect,
    ).compile();
    const seen = new Set<string>();
    const slots: Slot[] = query.parameters.map((p) => {
      if (typeof p === 'string' && p.startsWith(MARK)) {
        const arg = p.slice(MARK.length);
        seen.add(arg);
        return { arg };
      }
      if (typeof p === 'string' && p.includes(MARK)) throw new Error('prepared query: an argument was transformed, not bound');
      return { value: p };
    });
    if (query.sql.includes(MARK)) throw new Error('prepared query: an argument was inlined into the SQL');
    for (const n of names) if (!seen.has(n)) throw new Error(`prepared query: argument ${n} is not a bound parameter`);
    done = { query, slots };
    this.#compiled.set(dialect, done);
    return done;
  }
}
