import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";

// Every alert is actionable: labelled, described, linked to a runbook page that exists and has the
// four sections on-call reads, and unit-tested by promtool both quiet and firing.
const ROOT = path.resolve(__dirname, "..");
const SECTIONS = ["## Meaning", "## Impact", "## Diagnosis", "## Mitigation"];
const RUNBOOK_BASE = "https://github.com/floodgate/floodgate/blob/main/runbooks/";

interface Rule {
  alert?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface AlertCase {
  alertname: string;
  exp_alerts?: unknown[];
}

const yamlIn = (dir: string, suffix: string) =>
  fs
    .readdirSync(path.join(ROOT, dir))
    .filter((f) => f.endsWith(suffix))
    .map((f) => parse(fs.readFileSync(path.join(ROOT, dir, f), "utf8")));

const alerts: Rule[] = yamlIn("monitoring/rules", ".yml").flatMap((file: { groups: Array<{ rules: Rule[] }> }) =>
  file.groups.flatMap((g) => g.rules.filter((r) => r.alert)),
);
const cases: AlertCase[] = yamlIn("monitoring/tests", ".test.yml").flatMap(
  (file: { tests: Array<{ alert_rule_test?: AlertCase[] }> }) => file.tests.flatMap((t) => t.alert_rule_test ?? []),
);
const names = alerts.map((a) => a.alert!);

describe("alert rules", () => {
  it("are found, each name once", () => {
    expect(names.length).toBeGreaterThan(20);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(names)("%s has a severity, a summary, a description and its runbook_url", (name) => {
    const rule = alerts.find((a) => a.alert === name)!;
    expect(rule.labels?.severity).toMatch(/^(critical|warning|info|none)$/);
    expect(rule.annotations?.summary).toBeTruthy();
    expect(rule.annotations?.description).toBeTruthy();
    expect(rule.annotations?.runbook_url).toBe(`${RUNBOOK_BASE}${name}.md`);
  });

  it.each(names)("%s has a runbook page with Meaning, Impact, Diagnosis and Mitigation", (name) => {
    const page = path.join(ROOT, "runbooks", `${name}.md`);
    expect({ page: path.relative(ROOT, page), exists: fs.existsSync(page) }).toEqual({
      page: path.relative(ROOT, page),
      exists: true,
    });
    const text = fs.readFileSync(page, "utf8");
    expect(text.startsWith(`# ${name}\n`)).toBe(true);
    for (const section of SECTIONS)
      expect({ name, section, present: text.includes(`\n${section}\n`) }).toEqual({
        name,
        section,
        present: true,
      });
    // Each section says something: no empty heading, no placeholder.
    expect(text).not.toMatch(/\bTODO\b|\bTBD\b/);
    for (const body of text.split(/\n## /).slice(1)) expect(body.split("\n").slice(1).join("").trim()).not.toBe("");
  });

  it.each(names)("%s is unit-tested by promtool, not yet firing and firing", (name) => {
    const mine = cases.filter((c) => c.alertname === name);
    const firing = mine.some((c) => (c.exp_alerts ?? []).length > 0);
    // The Watchdog fires from the first evaluation by design: it has no quiet case.
    const quiet = name === "Watchdog" || mine.some((c) => (c.exp_alerts ?? []).length === 0);
    expect({ name, quiet, firing }).toEqual({ name, quiet: true, firing: true });
  });
});
