/**
 * Checked element access for the services: an element the code relies on (the one row of a COUNT,
 * the result of each script run, a message's own decision) is there, and if it is not, the error
 * says which one was missing instead of "cannot read properties of undefined" further on.
 * (test/support/checked.ts is the tests' counterpart; the product may not import test code.)
 */

/** The element at the integer `index` (negative counts from the end, as `Array.prototype.at`), or an error naming it. */
export function at<T>(list: readonly T[], index: number, what: string): T {
  // Array.prototype.at reads NaN or 1.5 as 0 or 1: a miscomputed index must fail, not pick an element.
  if (!Number.isInteger(index)) throw new Error(`expected ${what} at an integer index, got ${index}`);
  const element = list.at(index);
  if (element === undefined) throw new Error(`expected ${what} at index ${index}, but the list has ${list.length}`);
  return element;
}

/** The first element of `list` (the one row of an aggregate, a row read back by its id), or an error naming it. */
export function first<T>(list: readonly T[], what: string): T {
  return at(list, 0, what);
}

/** `a` and `b` paired by index (messages and their outcomes), after checking they are the same length. */
export function zip<A, B>(a: readonly A[], b: readonly B[], what: string): Array<[A, B]> {
  if (a.length !== b.length) throw new Error(`expected ${what} to pair up, got ${a.length} and ${b.length}`);
  // i < a.length === b.length: b[i] is b's own element (undefined only if b holds undefined there).
  return a.map((x, i) => [x, b[i] as B]);
}
