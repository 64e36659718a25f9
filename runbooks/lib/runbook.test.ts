import { parseRunbookArgs, Runbook, UsageError, type RunbookOptions } from "./runbook";

const opts = (o: Partial<RunbookOptions> = {}): RunbookOptions => ({
  apply: false,
  yes: false,
  stateDir: "/x",
  target: "local",
  stackFile: "/x.json",
  ...o,
});

function book(o: Partial<RunbookOptions>, answer = false) {
  const out: string[] = [];
  const asked: string[] = [];
  const b = new Runbook(
    "t",
    opts(o),
    (l) => out.push(l),
    async (q) => (asked.push(q), answer),
  );
  return { b, out, asked };
}

describe("Runbook", () => {
  it("only says what it would do in a dry run", async () => {
    const { b, out } = book({});
    let ran = false;
    expect(await b.act("restart x", async () => void (ran = true))).toBe(false);
    expect(ran).toBe(false);
    expect(out.join("\n")).toContain("would: restart x (run again with --apply)");
  });

  it("asks before acting with --apply, and skips when refused", async () => {
    const { b, asked, out } = book({ apply: true }, false);
    let ran = false;
    expect(await b.act("restart x", async () => void (ran = true))).toBe(false);
    expect([ran, asked]).toEqual([false, ["restart x?"]]);
    expect(out.join("\n")).toContain("skipped: restart x (not confirmed)");
  });

  it("acts without asking with --apply --yes, and records a failing action as failed", async () => {
    const { b, asked, out } = book({ apply: true, yes: true });
    expect(await b.act("restart x", async () => undefined)).toBe(true);
    expect(await b.act("restart y", () => Promise.reject(new Error("refused")))).toBe(false);
    expect(asked).toEqual([]);
    expect(b.finish(true)).toBe(1); // a failed action makes the run unhealthy
    expect(out.join("\n")).toMatch(/done\s+restart x[\s\S]*FAILED\s+restart y: refused[\s\S]*NOT healthy/);
  });

  it("exits 0 only when every check is healthy", () => {
    const { b } = book({});
    b.check("a", true);
    expect(b.finish(true)).toBe(0);
    const other = book({}).b;
    other.check("b", false, "down");
    expect(other.finish(false)).toBe(1);
  });
});

describe("parseRunbookArgs", () => {
  it("defaults to a dry run on the local stack", () => {
    const { options } = parseRunbookArgs([], {});
    expect(options).toMatchObject({ apply: false, yes: false });
    expect(options.stateDir).toMatch(/\.floodgate\/local$/);
  });

  it.each([
    [["--target", "kubernetes"], /--target kubernetes: expected local, docker, k8s/],
    [["--bogus"], /Unknown option '--bogus'/],
  ])("refuses %j with a usage error", (argv, message) => {
    expect(() => parseRunbookArgs(argv, {})).toThrow(UsageError);
    expect(() => parseRunbookArgs(argv, {})).toThrow(message);
  });
});
