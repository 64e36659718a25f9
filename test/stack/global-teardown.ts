/** Stop the test stack, leaving no process behind. */
export default async function globalTeardown(): Promise<void> {
  await globalThis.floodgateTestStack?.stop();
  globalThis.floodgateTestStack = undefined;
}
