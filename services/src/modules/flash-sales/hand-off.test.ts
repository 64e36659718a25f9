import { planHandOff, type Admitted } from "./hand-off";

const reservation = { userId: 7, seq: 1, admittedAtMs: 1_700_000_000_000 };
const fresh: Admitted = { fresh: true, reservation, settled: false, replicated: true };

describe("planHandOff", () => {
  it.each([
    ["a new reservation a replica holds", "publish-and-accept", {}, undefined],
    [
      "a retry of a reservation a replica holds (published already, or by the reconciler)",
      "accept",
      { fresh: false },
      undefined,
    ],
    [
      "a reservation no replica acknowledged: first ask whether the master has one",
      "ask-replicas",
      { replicated: false },
      undefined,
    ],
    ["…and it has none: a confirmed publish is the durable record", "publish-or-unknown", { replicated: false }, false],
    ["…and it has one that did not acknowledge: a failover could erase it", "unknown", { replicated: false }, true],
    ["…and the node is no longer a master (a failover under way)", "unknown", { replicated: false }, null],
    [
      "a retry of a reservation on a master without a replica: no failover can erase it",
      "accept",
      { fresh: false, replicated: false },
      false,
    ],
    ["a retry of a reservation a replica does not hold yet", "unknown", { fresh: false, replicated: false }, true],
    [
      "a request MySQL already confirmed or refused, replicated or not",
      "accept",
      { settled: true, replicated: false },
      undefined,
    ],
    ["a request Redis knows only by its confirmed order", "accept", { reservation: null, settled: true }, undefined],
    ["a request Redis knows only by its order, not yet settled", "accept", { reservation: null }, undefined],
  ] as Array<[string, string, Partial<Admitted>, boolean | null | undefined]>)(
    "%s → %s",
    (_, step, change, replicaOnline) => {
      const admitted = { ...fresh, ...change };
      const plan = replicaOnline === undefined ? planHandOff(admitted) : planHandOff(admitted, replicaOnline);
      expect(plan.step).toBe(step);
      // A publishing step carries the reservation it publishes; no other step has one.
      expect("reservation" in plan ? plan.reservation : null).toEqual(step.startsWith("publish") ? reservation : null);
    },
  );
});
