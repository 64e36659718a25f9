/**
 * Checked element access for tests: an element a test arranged (the second user, the first row of a
 * COUNT, replica 0) is there, and if it is not, the test fails saying which one was missing instead of
 * with "cannot read properties of undefined" a few lines later. `at`, `first` and `zip` are the
 * services' own (services/src/platform/checked.ts); the rest serve tests only.
 */
import { at, first, zip as pairUp } from "../../services/src/platform/checked";

/** How many leading elements {@link Counted} types as present: destructuring in tests names only a few. */
type NamedLimit = 8;

/**
 * `N` elements of `T`: for a literal `N`, the first `N` (at most 8, then `...T[]`) are typed as present,
 * so `const [creator, ...grabbers]` of a `Counted<User, 401>` needs no check; for a computed `N`, `T[]`.
 */
export type Counted<T, N extends number, Acc extends T[] = []> = number extends N
  ? T[]
  : Acc["length"] extends N
    ? Acc
    : Acc["length"] extends NamedLimit
      ? [...Acc, ...T[]]
      : Counted<T, N, [...Acc, T]>;

/** `list`, after checking it holds exactly `n` elements, typed as such (`what` names them in the error). */
export function exactly<T, N extends number>(list: T[], n: N, what: string): Counted<T, N> {
  if (list.length !== n) throw new Error(`expected ${n} ${what}, got ${list.length}`);
  // Checked just above: the type only records the length for destructuring.
  return list as Counted<T, N>;
}

export { at, first };

/** `a` and `b` paired by index (a crowd and its answers), after checking they are the same length. */
export function zip<A, B>(a: readonly A[], b: readonly B[]): Array<[A, B]> {
  return pairUp(a, b, "the two lists");
}

/** `value` when it is neither undefined nor null (a regex group, an optional field the test relies on), or an error naming it. */
export function present<T>(value: T | null | undefined, what: string): T {
  if (value === undefined || value === null) throw new Error(`expected ${what}, got ${value}`);
  return value;
}
