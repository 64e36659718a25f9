/**
 * The services image's build stage (images/Dockerfile), replayed without Docker: the build context
 * as `pulumi up` stages it (scripts/images/context.ts), the stage's COPY lines into a temporary
 * folder, then its exact `RUN npx tsc …` line.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { stageContext } from "../../../scripts/images/context";
import { present } from "../../../test/support/checked";
import { REPO_ROOT } from "../../../test/support/stack-config";

/** A stand-in CA bundle: the staging copies whatever file it is given. */
const CA = path.join(REPO_ROOT, "images", "install-packages");

const read = (file: string) => fs.readFileSync(path.join(REPO_ROOT, file), "utf8");

/** The instructions of one stage (`FROM … AS <stage>`), continuation lines joined, comments dropped. */
function stageInstructions(dockerfile: string, stage: string): string[] {
  const lines = dockerfile.replace(/\\\n\s*/g, " ").split("\n");
  const start = lines.findIndex((l) => new RegExp(`^FROM \\S+ AS ${stage}$`, "i").test(l.trim()));
  if (start < 0) throw new Error(`Dockerfile has no stage ${stage}`);
  const end = lines.findIndex((l, i) => i > start && /^FROM /i.test(l));
  return lines
    .slice(start + 1, end < 0 ? undefined : end)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

/** Replay the build stage's COPY lines into `dir`: what `docker build` would have in /src, files counted per source. */
function copyBuildContext(instructions: string[], context: string, dir: string): Record<string, number> {
  const copied: Record<string, number> = {};
  for (const line of instructions.filter((l) => l.startsWith("COPY "))) {
    const args = line.split(/\s+/).slice(1);
    const dest = args.pop()!;
    for (const src of args) {
      copied[src] = 0;
      const from = path.join(context, src);
      // A directory's contents land in dest; a file into dest/ when dest is a folder.
      const to = fs.statSync(from).isDirectory() || !dest.endsWith("/") ? dest : path.join(dest, path.basename(src));
      fs.cpSync(from, path.join(dir, to), {
        recursive: true,
        filter: (f) => {
          if (fs.statSync(f).isDirectory()) return true;
          copied[src] = (copied[src] ?? 0) + 1;
          return true;
        },
      });
    }
  }
  return copied;
}

/** Every bare package a compiled file requires, by package name. */
function requiredPackages(distDir: string): Set<string> {
  const found = new Set<string>();
  for (const f of fs.readdirSync(distDir, { recursive: true, encoding: "utf8" })) {
    if (!f.endsWith(".js")) continue;
    for (const [, spec] of fs.readFileSync(path.join(distDir, f), "utf8").matchAll(/require\("([^".][^"]*)"\)/g)) {
      const required = present(spec, "a required module");
      if (required.startsWith("node:")) continue;
      // The package: "@scope/name" of a scoped one, else the first segment.
      found.add(required.split("/", required.startsWith("@") ? 2 : 1).join("/"));
    }
  }
  return found;
}

describe("the services image's build stage", () => {
  const dockerfile = read("images/Dockerfile");
  const build = stageInstructions(dockerfile, "build");
  let dir: string;
  let context: string;
  let copied: Record<string, number>;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "floodgate-image-build-"));
    context = stageContext(REPO_ROOT, "services", path.join(dir, "context"), CA);
    copied = copyBuildContext(build, context, path.join(dir, "src"));
    dir = path.join(dir, "src");
    // Stands in for the stage's `npm ci`: the same lockfile, already installed.
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
    const tsc = build.find((l) => l.startsWith("RUN npx tsc "));
    if (!tsc) throw new Error("the build stage has no `RUN npx tsc …` line");
    try {
      execFileSync("sh", ["-c", tsc.slice("RUN ".length)], { cwd: dir, stdio: "pipe", encoding: "utf8" });
    } catch (err) {
      // tsc reports on stdout: show it, not just "Command failed".
      const e = err as { stdout?: string; stderr?: string };
      throw new Error(`${tsc}\n${e.stdout ?? ""}${e.stderr ?? ""}`, { cause: err });
    }
  }, 120_000);

  afterAll(() => {
    if (dir) fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  });

  it("stages the CA bundle for the download stage and copies it into no final image", () => {
    expect(fs.readFileSync(path.join(context, "build-ca.crt"), "utf8")).toBe(fs.readFileSync(CA, "utf8"));
    const finals = ["services", "mariadb", "redis", "nginx"].flatMap((stage) => stageInstructions(dockerfile, stage));
    expect(finals.filter((l) => l.includes("build-ca.crt"))).toEqual([]);
  });

  it("copies only sources the staged context holds, and no tests", () => {
    expect(Object.entries(copied).filter(([, files]) => files === 0)).toEqual([]);
    const tests = fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".test.ts"));
    expect(tests.filter((f) => !f.startsWith("node_modules"))).toEqual([]);
  });

  it("compiles the runbooks: the dispatcher and every runbook it can load by name", () => {
    expect(fs.existsSync(path.join(dir, "dist/runbooks/main.js"))).toBe(true);
    expect(fs.existsSync(path.join(dir, "dist/runbooks/status.js"))).toBe(true);
    const runbooks = fs.readdirSync(path.join(REPO_ROOT, "runbooks")).filter((f) => /^[^.]+\.ts$/.test(f));
    const missing = runbooks.filter((f) => !fs.existsSync(path.join(dir, "dist/runbooks", f.replace(/\.ts$/, ".js"))));
    expect(missing).toEqual([]);
  });

  it("still compiles every service entry point and ships the migrations", () => {
    const entries = fs.readdirSync(path.join(REPO_ROOT, "services/src/main")).filter((f) => f.endsWith(".ts"));
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries)
      expect([e, fs.existsSync(path.join(dir, "dist/services/src/main", e.replace(/\.ts$/, ".js")))]).toEqual([
        e,
        true,
      ]);
    expect(fs.readdirSync(path.join(dir, "dist/services/migrations")).length).toBeGreaterThan(0);
  });

  it("requires at run time only production dependencies the runtime image keeps", () => {
    const deps = Object.keys((JSON.parse(read("package.json")) as { dependencies: object }).dependencies);
    const uninstall = stageInstructions(dockerfile, "deps").find((l) => l.includes("npm uninstall"));
    const dropped = (uninstall ?? "").split(/\s+/).filter((w) => w !== "" && !w.startsWith("-"));
    const kept = deps.filter((d) => !dropped.includes(d));
    expect(dropped).toEqual(expect.arrayContaining(["@pulumi/pulumi"]));
    // The runbooks in the image are zx scripts.
    expect(dropped).not.toContain("zx");
    expect([...requiredPackages(path.join(dir, "dist"))].filter((p) => !kept.includes(p))).toEqual([]);
  });
});
