/**
 * Follows an append-only array of the sandbox's state (payments, notifications) so that an
 * index over it reads each item once, not the whole history on every look: `read` hands over
 * what was appended since the last read, and starts over when the array itself was replaced
 * (state loaded, admin reset). Writers only append; none has to tell the index.
 */
export class AppendedSince<T> {
  #of: readonly T[] | undefined;
  #seen = 0;

  /** Calls `restart` when `all` is not the array read last, then `each` for every item appended since. */
  read(all: readonly T[], each: (item: T) => void, restart: () => void): void {
    if (all !== this.#of) {
      this.#of = all;
      this.#seen = 0;
      restart();
    }
    for (; this.#seen < all.length; this.#seen++) each(all[this.#seen] as T);
  }
}
