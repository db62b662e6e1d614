// The device core's constants against the tables of docs/FORMAT.md. The harness build exports
// every constant of core/wire.ts as a wasm global; a change to the document or the core alone
// fails here (test/spec-host.test.ts does the same for the host decoder).

import { describe, it, expect } from "vitest";
import { loadHarness } from "./support/core-harness.js";
import { loadSpecTables, parseCode } from "./support/spec-tables.js";

const spec = loadSpecTables();
const h = loadHarness();
const g = (name: string) => h.global(name);
const constName = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]+/g, "_");

describe("core constants match docs/FORMAT.md", () => {
  it("record types", () => {
    for (const row of spec.named("record-types").rows) expect(g(`REC_${row.name}`), row.name).toBe(parseCode(row.code!));
  });

  it("event tags, compact forms included (every row, and no tag the document lacks)", () => {
    const rows = [...spec.named("events").rows, ...spec.named("compact-events").rows];
    for (const row of rows) expect(g(`TAG_${row.name}`), row.name).toBe(parseCode(row.tag!));
    const exported = Object.keys(h.e).filter((k) => k.startsWith("TAG_"));
    expect(exported.sort()).toEqual(rows.map((r) => `TAG_${r.name}`).sort());
    // A wake tag plus WAKE_DROP_OFFSET is its _DROP form, as the table pairs them.
    for (const w of ["WAKE_TASK", "WAKE_SELF", "WAKE_IRQ", "WAKE_EXT"]) expect(g(`TAG_${w}`) + g("WAKE_DROP_OFFSET")).toBe(g(`TAG_${w}_DROP`));
  });

  it("name kinds, resource kinds, ops and outcomes", () => {
    for (const row of spec.named("name-kinds").rows) expect(g(`NAME_${constName(row.name!)}`)).toBe(parseCode(row.code!));
    for (const row of spec.named("resource-kinds").rows) expect(g(`RES_${constName(row.name!)}`)).toBe(parseCode(row.code!));
    for (const row of spec.named("resource-ops").rows) expect(g(`OP_${constName(row.name!)}`)).toBe(parseCode(row.code!));
    for (const row of spec.named("resource-outcomes").rows) {
      expect(g(`OUTCOME_${constName(row.name!)}`)).toBe(parseCode(row.code!));
    }
  });

  it("filter categories", () => {
    const rows = spec.named("categories").rows;
    for (const row of rows) expect(g(`CAT_${constName(row.name!)}`), row.name).toBe(2 ** parseCode(row.bit!));
    expect(g("CAT_ALL")).toBe(2 ** rows.length - 1);
  });

  it("layout sizes", () => {
    const md = spec.all;
    expect(md.length).toBeGreaterThan(0);
    expect(g("RECORD_HEADER_BYTES")).toBe(3);
    const info = spec.under("2.1 INFO")[0]!.rows;
    expect(g("INFO_FIXED_BYTES")).toBe(Number(info.find((r) => r.field!.startsWith("device name"))!.offset));
    const counters = spec.under("2.3 COUNTERS")[0]!.rows;
    const lastRow = counters.at(-1)!;
    expect(g("COUNTERS_BYTES")).toBe(Number(lastRow.offset) + 8);
    const chunk = spec.under("3. Chunks")[0]!.rows;
    expect(g("CHUNK_HEADER_BYTES")).toBe(Number(chunk.find((r) => r.field!.startsWith("context task"))!.offset));
    expect(g("FORMAT_VERSION")).toBe(2);
  });
});
