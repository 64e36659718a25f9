import { replicatedBy, unknownScripts } from "./replicated-batch";

describe("replicatedBy", () => {
  it.each([
    ["a replica acknowledged", 1, 2, true],
    ["both replicas acknowledged", 2, 2, true],
    ["no replica acknowledged in time", 0, 2, false],
    ["a cluster built without replicas: nothing to wait for", 0, 0, true],
    ["WAIT's reply as a string", "1", 1, true],
  ])("%s → %s", (_, acks, replicas, replicated) => {
    expect(replicatedBy(acks, replicas)).toBe(replicated);
  });
});

describe("unknownScripts", () => {
  const ok = { err: null };
  const noscript = { err: new Error("NOSCRIPT No matching script. Please use EVAL.") };
  const own = { err: new Error("ERR user script failed: sold out") };
  it.each([
    ["every run known", [ok, ok], []],
    ["a node that never saw the script (a promoted replica)", [noscript, noscript], [0, 1]],
    ["only NOSCRIPT runs go again: a script's own error is its answer", [ok, noscript, own], [1]],
  ])("%s → %j", (_, results, again) => {
    expect(unknownScripts(results)).toEqual(again);
  });
});
