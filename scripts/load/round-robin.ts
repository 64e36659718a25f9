/**
 * Element `i` of `list`, wrapping around past its end: request i's user, replica or packet when a
 * run takes turns between them. An empty list has nobody to take turns: an error naming `what`.
 */
export function roundRobin<T>(list: readonly T[], i: number, what: string): T {
  const element = list[i % list.length];
  if (element === undefined) throw new Error(`no ${what} to take turns between`);
  return element;
}
