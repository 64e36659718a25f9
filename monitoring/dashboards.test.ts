import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { stringify } from "yaml";

// The Grafana dashboards: importable JSON whose every query is PromQL that Prometheus's own parser
// accepts (each is checked by `promtool check rules` as a recording rule).
const DIR = path.resolve(__dirname, "dashboards");
const files = fs.readdirSync(DIR).filter((f) => f.endsWith(".json"));

interface Dashboard {
  uid: string;
  title: string;
  templating: { list: Array<{ name: string; type: string }> };
  panels: Array<{ id: number; title: string; datasource: { uid: string }; targets: Array<{ expr: string }> }>;
}
const load = (f: string) => JSON.parse(fs.readFileSync(path.join(DIR, f), "utf8")) as Dashboard;

describe("Grafana dashboards", () => {
  it("cover the API, the data stores, the queues and the business, each with a unique uid", () => {
    expect(files.sort()).toEqual(["api.json", "business.json", "data-stores.json", "queues.json"]);
    const uids = files.map((f) => load(f).uid);
    expect(new Set(uids).size).toBe(files.length);
  });

  it.each(files)("%s takes its Prometheus from a datasource variable and has titled panels with queries", (f) => {
    const d = load(f);
    expect(d.templating.list).toContainEqual(expect.objectContaining({ name: "datasource", type: "datasource" }));
    expect(d.panels.length).toBeGreaterThan(3);
    expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
    for (const p of d.panels) {
      expect(p.title).toBeTruthy();
      expect(p.datasource.uid).toBe("${datasource}");
      expect(p.targets.length).toBeGreaterThan(0);
    }
  });

  it.each(files)("%s: promtool parses every query", (f) => {
    const rules = load(f).panels.flatMap((p) =>
      p.targets.map((t, i) => ({ record: `panel_${p.id}_${i}`, expr: t.expr })),
    );
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dash-")), "queries.yml");
    fs.writeFileSync(file, stringify({ groups: [{ name: "dashboard", rules }] }));
    expect(execFileSync("promtool", ["check", "rules", file], { encoding: "utf8" })).toContain("SUCCESS");
  });
});
