/** The outcome of feeding one event to a state machine. */
export type Transition<S extends string, E extends string> =
  | { readonly ok: true; readonly state: S; readonly changed: boolean }
  | { readonly ok: false; readonly code: 'ILLEGAL_TRANSITION'; readonly from: S; readonly event: E };

/** A transition table: for each state, the events it accepts and the state each leads to. */
export type TransitionTable<S extends string, E extends string> = Readonly<Record<S, Readonly<Partial<Record<E, S>>>>>;

/**
 * Builds a pure `(state, event) → Transition` function from a table of real moves and a table
 * of repeats that are accepted without a change (a duplicate notification, a second
 * "revoked"). Anything in neither table is rejected, never ignored.
 */
export function machine<S extends string, E extends string>(
  moves: TransitionTable<S, E>,
  repeats: Readonly<Partial<Record<S, readonly E[]>>>,
): (state: S, event: E) => Transition<S, E> {
  return (state, event) => {
    const row = Object.hasOwn(moves, state) ? moves[state] : undefined;
    const next = row && Object.hasOwn(row, event) ? row[event] : undefined;
    if (next !== undefined) return { ok: true, state: next, changed: next !== state };
    const same = Object.hasOwn(repeats, state) ? repeats[state] : undefined;
    if (same?.includes(event)) return { ok: true, state, changed: false };
    return { ok: false, code: 'ILLEGAL_TRANSITION', from: state, event };
  };
}
