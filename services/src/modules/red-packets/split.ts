/** A source of uniform numbers in [0, 1), injectable so tests can drive the split. */
export type Random = () => number;

/**
 * Split `amountCents` into `count` random parts, each at least 1 cent, summing exactly to the
 * amount — the double-mean method: each draw is uniform in [1, 2·mean_remaining − 1], so every
 * grabber's expected share is the same whatever their turn; the last part takes the rest.
 */
export function splitAmount(amountCents: number, count: number, random: Random = Math.random): number[] {
  if (!Number.isSafeInteger(amountCents) || !Number.isSafeInteger(count) || count < 1 || amountCents < count)
    throw new RangeError(`cannot split ${amountCents} cents into ${count} parts of at least 1 cent`);
  const parts: number[] = [];
  let remaining = amountCents;
  for (let left = count; left > 1; left--) {
    // Capped so every part still to come can have its 1 cent.
    const max = Math.max(1, Math.min(Math.floor((2 * remaining) / left) - 1, remaining - (left - 1)));
    // min() guards a random() that returns 1 (or more), which a strict [0, 1) source never does.
    const part = 1 + Math.min(max - 1, Math.floor(random() * max));
    parts.push(part);
    remaining -= part;
  }
  parts.push(remaining);
  return parts;
}
