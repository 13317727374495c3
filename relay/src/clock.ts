/** The relay's notion of "now", injectable so tests can move time without sleeping. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that runs with real time plus an adjustable offset (tests jump forward with `advance`). */
export interface OffsetClock extends Clock {
  advance(ms: number): void;
}

/** Builds a real-time clock whose offset tests can move forward. */
export function offsetClock(startOffsetMs = 0): OffsetClock {
  let offset = startOffsetMs;
  return {
    now: () => Date.now() + offset,
    advance: (ms: number) => {
      offset += ms;
    },
  };
}
