/** Run `tasks` with at most `limit` at once; results in the tasks' order. */
export async function bounded<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  // One iterator the workers share: each takes the next task when it is free.
  const queue = tasks.entries();
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (const [i, task] of queue) out[i] = await task();
    }),
  );
  return out;
}
