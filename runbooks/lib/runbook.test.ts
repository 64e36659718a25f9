import { chalk } from "zx";
import { stripVTControlCharacters as stripAnsi } from "node:util";
import { parseRunbookArgs, Runbook, UsageError, type RunbookOptions } from "./runbook";

const opts = (o: Partial<RunbookOptions> = {}): RunbookOptions => ({
  apply: false,
  yes: false,
  stateDir: "/x",
  target: "local",
  stackFile: "/x.json",
  dockerHostSet: false,
  ...o,
});

function book(o: Partial<RunbookOptions>, answer = false, colour = false) {
  const out: string[] = [];
  const asked: string[] = [];
  const b = new Runbook("t", opts(o), {
    out: (l) => out.push(l),
    ask: async (q) => (asked.push(q), answer),
    colour,
  });
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

  it("colours the marks with chalk when asked to, padding the summary's columns by their text", () => {
    const level = chalk.level;
    chalk.level = 1; // as on a terminal
    try {
      const { b, out } = book({}, false, true);
      b.check("a", false, "down");
      b.finish(false);
      const text = out.join("\n");
      expect(text).toContain(`  ${chalk.red.bold("PROBLEM")}: a: down`);
      expect(text).toContain(`  ${chalk.red.bold("PROBLEM")}  a: down`); // "PROBLEM" padded to 8 columns
      expect(text).toContain("\u001b[31m");
      expect(stripAnsi(text)).toMatch(/PROBLEM: a: down[\s\S]*NOT healthy$/);
    } finally {
      chalk.level = level;
    }
  });

  it("does not colour when stdout is not a terminal (tests, logs, docker exec without -t)", () => {
    const { b, out } = book({});
    const terminal = new Runbook("t", opts({}), { out: (l) => out.push(l) });
    expect(process.stdout.isTTY).toBeFalsy();
    b.check("a", true);
    terminal.check("a", true);
    expect(out).toEqual(["  ok: a", "  ok: a"]);
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

  it("reads the common options, a runbook's own, and positionals kept as strings", () => {
    const { options, values, positionals, help } = parseRunbookArgs(
      ["--apply", "--yes", "--target=docker", "--kind", "redis", "007", "--drill"],
      { kind: { type: "string", default: "all" }, drill: { type: "boolean", default: false } },
    );
    expect(options).toMatchObject({ apply: true, yes: true, target: "docker" });
    expect(values).toMatchObject({ kind: "redis", drill: true });
    expect(positionals).toEqual(["007"]);
    expect(help).toBe(false);
    expect(parseRunbookArgs(["-h"], {}).help).toBe(true);
    expect(parseRunbookArgs([], { kind: { type: "string", default: "all" } }).values.kind).toBe("all");
  });

  it.each([
    [["--target", "kubernetes"], /--target kubernetes: expected local, docker, k8s/],
    [["--bogus"], /Unknown option '--bogus'/],
    [["--bogus=1"], /Unknown option '--bogus'/],
    [["--no-bogus"], /Unknown option '--no-bogus'/],
    [["-x"], /Unknown option '-x'/],
    [["--kind"], /Option '--kind <value>' argument missing/],
    [["--kind", "--apply"], /Option '--kind <value>' argument missing/],
    [["--kind", "a", "--kind", "b"], /--kind given 2 times/],
  ])("refuses %j with a usage error", (argv, message) => {
    const own = { kind: { type: "string" } } as const;
    expect(() => parseRunbookArgs(argv, own)).toThrow(UsageError);
    expect(() => parseRunbookArgs(argv, own)).toThrow(message);
  });
});
