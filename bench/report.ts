/**
 * What the benchmarks share: Prettier-stable Markdown tables, the targets section, and writing the
 * report to `bench/results/`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import * as path from "node:path";

/** PASS or FAIL. */
export const verdict = (pass: boolean): string => (pass ? "PASS" : "FAIL");

/**
 * A Markdown table laid out the way Prettier lays it out (cells padded to the column width), so the
 * written file passes `prettier --check`. `align` is `l` or `r` per column. Cells must be single-width
 * characters for the padding to match.
 */
export function markdownTable(header: string[], align: string, rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(3, h.length, ...rows.map((r) => r[c].length)));
  const cell = (text: string, c: number): string =>
    align[c] === "r" ? text.padStart(widths[c]) : text.padEnd(widths[c]);
  const line = (cells: string[]): string => `| ${cells.map(cell).join(" | ")} |`;
  const rule = widths.map((w, c) => (align[c] === "r" ? `${"-".repeat(w - 1)}:` : "-".repeat(w)));
  return [line(header), `| ${rule.join(" | ")} |`, ...rows.map(line)].join("\n");
}

/** The "Machine" section: what the figures were measured on. */
export function machineSection(): string[] {
  const cpus = os.cpus();
  return [
    "## Machine",
    "",
    `- Node ${process.version} on ${os.platform()} ${os.arch()}`,
    `- CPU: ${cpus[0]?.model ?? "unknown"}, ${cpus.length} cores`,
    "",
  ];
}

/** A checked target. */
export interface Check {
  what: string;
  pass: boolean;
}

/** The "Targets" section: one line per target and a closing count. */
export function targetsSection(checks: readonly Check[]): string[] {
  const failed = checks.filter((c) => !c.pass).length;
  return [
    "## Targets",
    "",
    ...checks.map((c) => `- ${verdict(c.pass)}: ${c.what}`),
    "",
    failed === 0 ? `All ${checks.length} targets pass.` : `${failed} of ${checks.length} targets FAIL.`,
    "",
  ];
}

/** Writes the report to `bench/results/<fileName>`, echoes it, and sets a failing exit code if a target failed. */
export function publishReport(
  fileName: string,
  markdown: string,
  checks: readonly Check[],
  note: string,
): void {
  const outDir = path.join(__dirname, "results");
  mkdirSync(outDir, { recursive: true });
  const outFile = path.join(outDir, fileName);
  writeFileSync(outFile, markdown);
  process.stdout.write(markdown);
  process.stdout.write(`\n${note}Wrote ${path.relative(process.cwd(), outFile)}.\n`);
  if (checks.some((c) => !c.pass)) process.exitCode = 1;
}
