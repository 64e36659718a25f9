/**
 * The import boundaries (`npm run lint` runs `depcruise`): no import cycle anywhere, and the layers
 * only import downwards —
 *   infra/topology (the model) ← infra/render (pure renderers) ← services (the app)
 *     ← infra/targets (the local stack, the Docker and Kubernetes programs, each target's Target)
 *     ← runbooks (through infra/targets/*.ts, the seam, only) ← scripts (load, bench, chaos, images),
 * load, bench and chaos reaching a target through that seam too (a Target, never a target's insides),
 * with test code (test/, *.test.ts, fixtures) importable by tests only.
 */
const TEST = "(^test/|\\.test\\.ts$|\\.fixture\\.ts$)";
/** A target's insides and the Pulumi programs: what runbooks, load, the bench and chaos reach only through the seam. */
const PAST_THE_SEAM = "infra/targets/[^/]+/|infra/[^/]+\\.ts$";
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "An import cycle: split the shared part into a module both import.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "topology-imports-nothing",
      comment: "infra/topology is the model every layer reads: it imports nothing of the repository's.",
      severity: "error",
      from: { path: "^infra/topology/", pathNot: TEST },
      to: { path: "^(infra|services|runbooks|scripts|monitoring|test)/", pathNot: "^infra/topology/" },
    },
    {
      name: "render-is-pure",
      comment: "infra/render turns the topology into config text: it reads only the topology.",
      severity: "error",
      from: { path: "^infra/render/", pathNot: TEST },
      to: { path: "^(infra|services|runbooks|scripts|monitoring|test)/", pathNot: "^infra/(render|topology)/" },
    },
    {
      name: "services-stand-alone",
      comment:
        "The services run on every target: they import the model and renderers, never a target, runbook or script.",
      severity: "error",
      from: { path: "^services/", pathNot: TEST },
      to: { path: "^(infra|runbooks|scripts|monitoring|test)/", pathNot: "^infra/(render|topology)/" },
    },
    {
      name: "targets-below-runbooks",
      comment: "The targets (and the Pulumi programs) never import runbooks, load/bench/chaos scripts or tests.",
      severity: "error",
      from: { path: "^(infra/targets/|infra/[^/]+\\.ts$)", pathNot: TEST },
      to: { path: "^(runbooks|scripts/(load|bench|chaos)|test)/" },
    },
    {
      name: "runbooks-through-the-seam",
      comment:
        "Runbooks reach a target through its Target (infra/targets/*.ts), never its insides or the Pulumi programs.",
      severity: "error",
      from: { path: "^runbooks/", pathNot: TEST },
      to: { path: `^(${PAST_THE_SEAM}|scripts/|test/)` },
    },
    {
      name: "load-bench-chaos-through-the-seam",
      comment:
        "Load runs, the bench and chaos drive a stack through its Target (infra/targets/*.ts), never a target's insides or the Pulumi programs.",
      severity: "error",
      from: { path: "^scripts/(load|bench|chaos)/", pathNot: TEST },
      to: { path: `^(${PAST_THE_SEAM}|test/)` },
    },
    {
      name: "no-test-code-in-the-product",
      comment: "Test kits and fixtures serve tests only.",
      severity: "error",
      from: { pathNot: TEST },
      to: { path: "(^test/|\\.test\\.ts$|\\.fixture\\.ts$)" },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^node_modules|^\\.floodgate|^dist)/" },
  },
};
