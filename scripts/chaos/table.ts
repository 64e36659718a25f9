import { formatTable } from "../../infra/targets/text-table";
import type { ChaosResult } from "./scenarios";

/** Column labels: the invariants are many and long, so columns carry a letter and a legend names them. */
const letter = (i: number) => String.fromCharCode(65 + i);

/**
 * The scenarios × invariants table: "ok", "FAIL" or "–" (not checked by that kind of storm) per
 * invariant, a legend, then the detail of every failure, so the output alone says what broke.
 */
export function chaosTable(results: ChaosResult[]): string {
  const names = [...new Set(results.flatMap((r) => r.checks.map((c) => c.name)))];
  const rows = results.map((r) => [
    r.id,
    `${r.seconds.toFixed(0)} s`,
    ...names.map((n) => {
      if (r.error) return "ERR";
      const c = r.checks.find((x) => x.name === n);
      return c ? (c.ok ? "ok" : "FAIL") : "–";
    }),
    r.error || r.checks.some((c) => !c.ok) ? "VIOLATED" : "held",
  ]);
  const table = formatTable(["scenario", "took", ...names.map((_, i) => letter(i)), "result"], rows);
  const legend = names.map((n, i) => `  ${letter(i)}  ${n}`);
  const failures = results.flatMap((r) => [
    ...(r.error ? [`  ${r.id}: could not finish: ${r.error}`] : []),
    ...r.checks.filter((c) => !c.ok).map((c) => `  ${r.id}: ${c.name}: ${c.detail}`),
  ]);
  const verdict = failures.length ? `violations:\n${failures.join("\n")}` : "every invariant held in every scenario";
  return `${table}\n\n${legend.join("\n")}\n\n${verdict}`;
}
