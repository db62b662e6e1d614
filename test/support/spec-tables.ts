// Reads the tables of docs/FORMAT.md so tests can hold code constants (host and core) against
// the document. A table is named by the "(table `name`)" marker in the paragraph right above
// it; the unnamed layout tables are found by the heading they sit under.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface MarkdownTable {
  /** From "(table `name`)" in the paragraph just above, if any. */
  name: string | undefined;
  /** The nearest heading above the table, without the #s ("2.1 INFO"). */
  heading: string;
  columns: string[];
  /** Cells by column name, trimmed, as written (backticks kept). */
  rows: Record<string, string>[];
  /** 1-based line of the header row, for messages. */
  line: number;
}

export const FORMAT_MD_PATH = fileURLToPath(new URL("../../docs/FORMAT.md", import.meta.url));

const MARKER = /\(table `([^`]+)`\)/g;

function splitRow(line: string): string[] {
  const inner = line.trim().replace(/^\|/, "").replace(/\|$/, "");
  return inner.split("|").map((cell) => cell.trim());
}

function isSeparator(line: string): boolean {
  return /^\|(\s*:?-{3,}:?\s*\|)+\s*$/.test(line.trim());
}

/** Every pipe table in a markdown text, in document order. */
export function parseMarkdownTables(markdown: string): MarkdownTable[] {
  const lines = markdown.split(/\r?\n/);
  const tables: MarkdownTable[] = [];
  let heading = "";
  let inFence = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trimStart().startsWith("```")) inFence = !inFence;
    if (inFence) continue;
    const h = /^#+\s+(.*)$/.exec(line);
    if (h) {
      heading = h[1]!.trim();
      continue;
    }
    if (!line.trimStart().startsWith("|") || !isSeparator(lines[i + 1] ?? "")) continue;

    const columns = splitRow(line);
    const rows: Record<string, string>[] = [];
    let j = i + 2;
    for (; j < lines.length && lines[j]!.trimStart().startsWith("|"); j++) {
      const cells = splitRow(lines[j]!);
      if (cells.length !== columns.length) {
        throw new Error(`FORMAT.md line ${j + 1}: ${cells.length} cells, table has ${columns.length} columns`);
      }
      rows.push(Object.fromEntries(columns.map((c, k) => [c, cells[k]!])));
    }
    tables.push({ name: markerAbove(lines, i), heading, columns, rows, line: i + 1 });
    i = j - 1;
  }
  return tables;
}

/** The table name in the paragraph ending just above line `index` (blank lines skipped). */
function markerAbove(lines: string[], index: number): string | undefined {
  let k = index - 1;
  while (k >= 0 && lines[k]!.trim() === "") k--;
  const paragraph: string[] = [];
  while (k >= 0 && lines[k]!.trim() !== "" && !lines[k]!.startsWith("#") && !lines[k]!.trimStart().startsWith("|")) {
    paragraph.unshift(lines[k]!);
    k--;
  }
  const names = [...paragraph.join("\n").matchAll(MARKER)].map((m) => m[1]!);
  if (names.length > 1) throw new Error(`FORMAT.md line ${index + 1}: several table markers above one table: ${names}`);
  return names[0];
}

export interface SpecTables {
  all: MarkdownTable[];
  /** A named table; throws if it is missing. */
  named(name: string): MarkdownTable;
  /** The tables under a heading that starts with `heading` ("2.1 INFO"). */
  under(heading: string): MarkdownTable[];
}

export function specTables(markdown: string): SpecTables {
  const all = parseMarkdownTables(markdown);
  const byName = new Map<string, MarkdownTable>();
  for (const t of all) {
    if (t.name === undefined) continue;
    if (byName.has(t.name)) throw new Error(`FORMAT.md: table \`${t.name}\` defined twice`);
    byName.set(t.name, t);
  }
  return {
    all,
    named(name) {
      const t = byName.get(name);
      if (!t) throw new Error(`FORMAT.md has no table \`${name}\``);
      return t;
    },
    under(heading) {
      return all.filter((t) => t.heading.startsWith(heading));
    },
  };
}

/** The tables of docs/FORMAT.md. */
export function loadSpecTables(path = FORMAT_MD_PATH): SpecTables {
  return specTables(readFileSync(path, "utf8"));
}

/** "0x1A" / "26" -> 26. */
export function parseCode(cell: string): number {
  if (/^0x[0-9a-f]+$/i.test(cell)) return Number.parseInt(cell.slice(2), 16);
  if (/^[0-9]+$/.test(cell)) return Number.parseInt(cell, 10);
  throw new Error(`not a code: "${cell}"`);
}

/** The fenced cddl block of FORMAT.md section 6, parsed into rule name -> quoted keys in order. */
export function cddlMapKeys(markdown: string): Map<string, string[]> {
  const block = /```cddl\n([\s\S]*?)```/.exec(markdown);
  if (!block) throw new Error("FORMAT.md has no cddl block");
  const text = block[1]!.replace(/;[^\n]*/g, ""); // comments
  const rules = new Map<string, string[]>();
  for (const m of text.matchAll(/^([a-z-]+)\s*=\s*\{/gm)) {
    // Balanced braces from the rule's "{": nested maps (anchor, loss) belong to the rule.
    let depth = 0;
    let end = m.index! + m[0].length - 1;
    for (; end < text.length; end++) {
      if (text[end] === "{") depth++;
      else if (text[end] === "}" && --depth === 0) break;
    }
    const body = text.slice(m.index! + m[0].length, end);
    rules.set(m[1]!, [...body.matchAll(/"([a-z_]+)"\s*:/g)].map((k) => k[1]!));
  }
  return rules;
}
