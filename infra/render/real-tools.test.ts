import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { localAddresses, parseTopology, type TopologyInput } from "../topology";
import { renderAlertmanagerYml } from "./alertmanager";
import { renderNginxConf } from "./nginx";
import { renderPrometheusYml } from "./prometheus";

// The rendered configs checked by the very tools that will load them: what passes here is what every target mounts.
const REPO = path.resolve(__dirname, "../..");
const RULES_DIR = path.join(REPO, "monitoring/rules");
const TESTS_DIR = path.join(REPO, "monitoring/tests");
const yamlFiles = (dir: string, suffix = ".yml") =>
  fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .sort()
    .map((f) => path.join(dir, f));

// Debian puts nginx in /usr/sbin, which is not on every user's PATH; a missing tool fails the test, never skips it.
function tool(name: string): string {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter), "/usr/sbin", "/usr/local/sbin", "/sbin"];
  const found = dirs.map((d) => path.join(d, name)).find((p) => fs.existsSync(p));
  if (!found) throw new Error(`${name} is not installed (looked in ${dirs.join(", ")})`);
  return found;
}

function run(name: string, args: string[]): string {
  try {
    return execFileSync(tool(name), args, { cwd: REPO, encoding: "utf8", stdio: "pipe", timeout: 30_000 });
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string; message: string };
    // execFileSync's own message is only "Command failed"; the tool's output says why.
    throw new Error(`${name} ${args.join(" ")} exited ${e.status}:\n${e.stdout ?? ""}${e.stderr || e.message}`, {
      cause: err,
    });
  }
}

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "floodgate-render-"));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const write = (name: string, content: string) => {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, content);
  return file;
};

describe("nginx -t", () => {
  it.each([1, 2, 5])("accepts the config for %i API replicas", (replicas) => {
    const t = parseTopology({ api: { replicas }, autoscaling: { minReplicas: 1 } });
    fs.mkdirSync(path.join(tmp, "logs"));
    fs.mkdirSync(path.join(tmp, "static"));
    const conf = write(
      "nginx.conf",
      renderNginxConf(t, localAddresses(t), {
        bindHost: "127.0.0.1",
        paths: {
          prefix: tmp,
          staticRoot: path.join(tmp, "static"),
          pidFile: path.join(tmp, "nginx.pid"),
          errorLog: path.join(tmp, "logs/error.log"),
          accessLog: path.join(tmp, "logs/access.log"),
        },
      }),
    );

    const out = run("nginx", ["-t", "-p", `${tmp}/`, "-e", path.join(tmp, "error.log"), "-c", conf]);

    expect(out).toBe(""); // nginx -t reports on stderr; success is the exit code
    expect(fs.existsSync(path.join(tmp, "proxy_temp"))).toBe(true);
  });
});

describe("promtool", () => {
  it("finds rule files to check", () => {
    expect(yamlFiles(RULES_DIR).map((f) => path.basename(f))).toContain("stack.yml");
  });

  it.each<[string, TopologyInput]>([
    ["the defaults", {}],
    [
      "five API replicas, eight Redis nodes and two MariaDB replicas",
      {
        api: { replicas: 5 },
        redis: { masters: 4 },
        mysql: { replicas: 2 },
        monitoring: { scrapeIntervalSeconds: 1, evaluationIntervalSeconds: 1 },
      },
    ],
  ])("check config accepts prometheus.yml for %s, with every rule file", (_name, input) => {
    const t = parseTopology(input);
    const file = write(
      "prometheus.yml",
      renderPrometheusYml(t, localAddresses(t), { ruleFiles: yamlFiles(RULES_DIR) }),
    );

    const out = run("promtool", ["check", "config", file]);

    expect(out).toContain("SUCCESS");
  });

  it.each(yamlFiles(RULES_DIR).map((f) => path.relative(REPO, f)))("check rules accepts %s", (file) => {
    expect(run("promtool", ["check", "rules", file])).toContain("SUCCESS");
  });

  it("test rules passes every rule unit test", () => {
    const tests = yamlFiles(TESTS_DIR, ".test.yml");
    expect(tests.length).toBeGreaterThan(0);

    expect(run("promtool", ["test", "rules", ...tests])).toContain("SUCCESS");
  });
});

describe("amtool check-config", () => {
  it.each<[string, TopologyInput]>([
    ["with an on-call webhook", { monitoring: { oncallWebhookUrl: "https://oncall.example.com/hooks/floodgate" } }],
    ["without an on-call webhook", {}],
  ])("accepts alertmanager.yml %s, with and without the autoscaler route", (_name, input) => {
    const t = parseTopology(input);
    expect(run("amtool", ["check-config", write("alertmanager.yml", renderAlertmanagerYml(t))])).toContain("SUCCESS");
    const file = write("alertmanager.yml", renderAlertmanagerYml(t, localAddresses(t)));

    expect(run("amtool", ["check-config", file])).toContain("SUCCESS");
  });
});
