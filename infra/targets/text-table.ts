/**
 * Plain-text tables for the terminal: the local stack's status, the chaos and bench summaries. Here,
 * beside the seam, so scripts reach it without a target's insides.
 */

/** Format rows as an aligned plain-text table with a header rule. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0)) // a cell past the header's columns stays unpadded
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
