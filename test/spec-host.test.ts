// host/format/spec.ts against docs/FORMAT.md: every table, layout and constant must agree, so
// changing the document or the code alone fails here.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as spec from "../host/format/spec.js";
import { ITEM_KEYS } from "../host/tracefile/schema.js";
import {
  FORMAT_MD_PATH,
  cddlMapKeys,
  loadSpecTables,
  parseCode,
  parseMarkdownTables,
  specTables,
  type MarkdownTable,
} from "./support/spec-tables.js";

const markdown = readFileSync(FORMAT_MD_PATH, "utf8");
const tables = loadSpecTables();
/** The document with line breaks and runs of spaces collapsed, for phrases that wrap. */
const prose = markdown.replace(/\s+/g, " ");

/** [code, name] pairs of a code/name table. */
function codeNames(table: MarkdownTable, codeColumn = "code"): [number, string][] {
  return table.rows.map((row) => [parseCode(row[codeColumn]!), row.name!]);
}

/** The events table as spec.ts spells its rows (empty cells are null). */
function docEvents(table: MarkdownTable) {
  const cell = (s: string) => (s === "" ? null : s);
  return table.rows.map((r) => ({
    tag: parseCode(r.tag!),
    name: r.name,
    category: r.category,
    fields: r.fields,
    task: r.task,
    a: cell(r.a!),
    b: cell(r.b!),
    c: cell(r.c!),
    v: cell(r.v!),
  }));
}

function layoutRows(table: MarkdownTable) {
  return table.rows.map((row) => ({
    offset: row.offset === ".." ? null : parseCode(row.offset!),
    size: row.size!,
    field: row.field!,
  }));
}

function expectLayout(table: MarkdownTable, layout: readonly spec.LayoutEntry[]) {
  const doc = layoutRows(table);
  expect(doc.map((r) => [r.offset, r.size])).toEqual(layout.map((l) => [l.offset, l.size]));
  doc.forEach((row, i) => expect(row.field.startsWith(layout[i]!.doc), `"${row.field}" vs ${layout[i]!.doc}`).toBe(true));
}

describe("markdown table parser", () => {
  it("names tables by the marker in the paragraph above and keeps cells as written", () => {
    const md = [
      "## 1. Things",
      "",
      "Some (table `first`) here:",
      "",
      "| code | name |",
      "|---|---|",
      "| 0x01 | `A` |",
      "| 2 | B |",
      "",
      "Prose mentions (table `other`) in a list.",
      "",
      "- item",
      "",
      "| x |",
      "|---|",
      "| 1 |",
    ].join("\n");
    const parsed = parseMarkdownTables(md);
    expect(parsed).toHaveLength(2);
    expect(parsed[0]).toMatchObject({ name: "first", heading: "1. Things", columns: ["code", "name"] });
    expect(parsed[0]!.rows).toEqual([{ code: "0x01", name: "`A`" }, { code: "2", name: "B" }]);
    expect(parsed[1]!.name).toBeUndefined(); // the marker belongs to another paragraph
  });

  it("rejects rows with the wrong number of cells and duplicate names", () => {
    expect(() => parseMarkdownTables("| a | b |\n|---|---|\n| 1 |\n")).toThrow(/1 cells/);
    const twice = "(table `t`)\n\n| a |\n|---|\n| 1 |\n\n(table `t`)\n\n| a |\n|---|\n| 2 |\n";
    expect(() => specTables(twice)).toThrow(/twice/);
  });

  it("parses codes strictly", () => {
    expect(parseCode("0x1A")).toBe(26);
    expect(parseCode("7")).toBe(7);
    expect(() => parseCode("0x1G")).toThrow();
    expect(() => parseCode("")).toThrow();
  });
});

describe("FORMAT.md named tables match host/format/spec.ts", () => {
  it("covers every named table of the document", () => {
    const named = tables.all.flatMap((t) => (t.name ? [t.name] : [])).sort();
    expect(named).toEqual(
      ["categories", "compact-events", "events", "name-kinds", "record-types", "resource-kinds", "resource-ops", "resource-outcomes"].sort(),
    );
  });

  it("record-types", () => {
    expect(codeNames(tables.named("record-types"))).toEqual(spec.RECORD_TYPES.map((r) => [r.code, r.name]));
  });

  it("name-kinds", () => {
    expect(codeNames(tables.named("name-kinds"))).toEqual(spec.NAME_KINDS.map((r) => [r.code, r.name]));
  });

  it("resource kinds, ops and outcomes", () => {
    expect(codeNames(tables.named("resource-kinds"))).toEqual(spec.RESOURCE_KINDS.map((r) => [r.code, r.name]));
    expect(codeNames(tables.named("resource-ops"))).toEqual(spec.RESOURCE_OPS.map((r) => [r.code, r.name]));
    expect(codeNames(tables.named("resource-outcomes"))).toEqual(spec.RESOURCE_OUTCOMES.map((r) => [r.code, r.name]));
  });

  it("categories", () => {
    expect(codeNames(tables.named("categories"), "bit")).toEqual(spec.CATEGORIES.map((c) => [c.bit, c.name]));
  });

  it("events: every column of every row", () => {
    const table = tables.named("events");
    expect(table.columns).toEqual(["tag", "name", "category", "fields", "task", "a", "b", "c", "v"]);
    expect(docEvents(table)).toEqual(spec.EVENTS.map((e) => ({ ...e })));
  });

  it("compact-events: every column of every row, each expansion naming real events and fields", () => {
    const table = tables.named("compact-events");
    expect(table.columns).toEqual(["tag", "name", "fields", "expands"]);
    expect(table.rows.map((r) => ({ tag: parseCode(r.tag!), name: r.name, fields: r.fields, expands: r.expands }))).toEqual(
      spec.COMPACT_EVENTS.map((e) => ({ ...e })),
    );
    for (const e of spec.COMPACT_EVENTS) {
      expect(spec.eventSpec(e.tag), `${e.name} reuses an event tag`).toBeUndefined();
      const own = new Set(spec.parseFields(e.fields).map((f) => f.name));
      for (const x of spec.parseExpansion(e.expands)) {
        const fields = spec.parseFields(spec.EVENTS.find((b) => b.name === x.event)!.fields).map((f) => f.name);
        for (const [field, source] of Object.entries(x.from)) {
          expect(fields, `${e.name}: ${x.event} has no field ${field}`).toContain(field);
          expect(own.has(source) || source === "current" || source === "resource", `${e.name}: source ${source}`).toBe(true);
        }
        // A field not assigned must be one the compact event carries under the same name.
        for (const f of fields) if (!(f in x.from)) expect(own.has(f), `${e.name}: ${x.event}.${f} has no source`).toBe(true);
      }
    }
  });

  it("notices an edit of the document alone", () => {
    const edited = [
      markdown.replace("| 0x15 | MARK | mark | name |", "| 0x15 | MARK | mark | name extra |"),
      markdown.replace("| 0x0F | RES_OP | resource | res opcode:u8 level? | current | res | op | outcome | level |", "| 0x0F | RES_OP | resource | res opcode:u8 level? | current | res | outcome | op | level |"),
      markdown.replace("| 0x0F | RES_OP | resource | res opcode:u8 level? |", "| 0x0F | RES_OP | resource | res opcode:u8 level |"),
      markdown.replace("| 3 | io |", "| 3 | io |\n| 4 | dma |"),
    ];
    for (const md of edited) {
      expect(md).not.toBe(markdown);
      const t = specTables(md);
      const same =
        JSON.stringify(docEvents(t.named("events"))) === JSON.stringify(spec.EVENTS) &&
        JSON.stringify(codeNames(t.named("resource-kinds"))) === JSON.stringify(spec.RESOURCE_KINDS.map((r) => [r.code, r.name]));
      expect(same).toBe(false);
    }
  });

  it("every event category is a filter category", () => {
    const categories = new Set(spec.CATEGORIES.map((c) => c.name));
    for (const e of spec.EVENTS) expect(categories.has(e.category), e.name).toBe(true);
  });

  it("decoded columns name a field of the event or a value packed in opcode/meta", () => {
    for (const e of spec.EVENTS) {
      const fields = new Set(spec.parseFields(e.fields).map((f) => f.name));
      if (fields.has("opcode")) fields.add("op").add("outcome");
      if (fields.has("meta")) fields.add("level").add("argc");
      if (fields.has("due")) fields.add("deadline"); // TIMER_ARM: the event's time + due
      for (const column of [e.task, e.a, e.b, e.c, e.v]) {
        if (column !== null && column !== "current") expect(fields.has(column), `${e.name}: ${column}`).toBe(true);
      }
    }
  });
});

describe("FORMAT.md layouts match host/format/spec.ts", () => {
  it("record header (section 2)", () => {
    expectLayout(tables.under("2. Drain stream")[0]!, spec.RECORD_HEADER_LAYOUT);
    expect(spec.RECORD_HEADER_SIZE).toBe(spec.RECORD_HEADER_LAYOUT.at(-1)!.offset);
  });

  it("INFO (section 2.1)", () => {
    expectLayout(tables.under("2.1 INFO")[0]!, spec.INFO_LAYOUT);
    expect(spec.INFO_FIXED_SIZE).toBe(spec.INFO_LAYOUT.find((l) => l.field === "device")!.offset);
  });

  it("NAMES (section 2.2)", () => {
    expectLayout(tables.under("2.2 NAMES")[0]!, spec.NAMES_LAYOUT);
    expect(spec.NAMES_HEADER_SIZE).toBe(spec.NAMES_LAYOUT.at(-1)!.offset);
  });

  it("COUNTERS (section 2.3), and the trace file's counter names", () => {
    expectLayout(tables.under("2.3 COUNTERS")[0]!, spec.COUNTERS_LAYOUT);
    const last = spec.COUNTERS_LAYOUT.at(-1)!;
    expect(spec.COUNTERS_SIZE).toBe(last.offset! + 8);
    expect(spec.COUNTERS_LAYOUT.map((l) => spec.COUNTER_KEYS[l.field as spec.CounterField])).toEqual(
      spec.COUNTERS_LAYOUT.map((l) => l.doc),
    );
  });

  it("CHUNK header (section 3)", () => {
    expectLayout(tables.under("3. Chunks")[0]!, spec.CHUNK_HEADER_LAYOUT);
    expect(spec.CHUNK_HEADER_SIZE).toBe(spec.CHUNK_HEADER_LAYOUT.find((l) => l.size === "varint")!.offset);
  });
});

describe("FORMAT.md constants in prose", () => {
  it("versions", () => {
    expect(prose).toContain(`**wire format ${spec.WIRE_FORMAT_VERSION}**`);
    expect(prose).toContain("Readers also take wire format 1 and trace files of version 1 and 2");
    expect(spec.WIRE_FORMAT_VERSIONS).toEqual([1, 2]);
    expect([spec.OLDEST_TRACE_FILE_VERSION, spec.TRACE_FILE_VERSION]).toEqual([1, 3]);
    expect(spec.COUNTERS_SIZE_V1).toBe(spec.COUNTERS_LAYOUT.find((l) => l.doc === "hidden")!.offset);
    expect(prose).toContain("A wire format 1 device sends the first 72 bytes (no `hidden`)");
    expect(prose).toContain(`**trace file ${spec.TRACE_FILE_VERSION}**`);
    expect(prose).toMatch(new RegExp(`"taskscope": ${spec.TRACE_FILE_VERSION},`));
  });

  it("INFO magic", () => {
    const hex = spec.INFO_MAGIC.map((b) => `0x${b.toString(16)}`).join(" ");
    const text = String.fromCharCode(...spec.INFO_MAGIC);
    expect(prose).toContain(`magic \`${text}\` (${hex})`);
  });

  it("LOG_ARG kind, LOG limits and opcode/meta packing", () => {
    expect(prose).toContain(`kind 0x${spec.LOG_ARG.toString(16)} LOG_ARG`);
    expect(prose).toContain(`\`argc\` (0..${spec.MAX_LOG_ARGS})`);
    expect(prose).toContain(`\`opcode\` is \`op | outcome << ${spec.OPCODE_OUTCOME_SHIFT} | L << ${spec.OPCODE_LEVEL_SHIFT}\``);
    expect(prose).toContain(`L = level + 1\nwhen level < ${spec.OPCODE_INLINE_LEVEL_MAX + 1}`.replace("\n", " "));
    expect(prose).toContain(`\`meta\` is \`level << ${spec.LOG_META_LEVEL_SHIFT} | argc\``);
  });

  it("varint limits, largest event and smallest chunk", () => {
    expect(prose).toContain(`u32 may take at most ${spec.MAX_VARINT32_BYTES}`);
    expect(prose).toContain(`u64 at most ${spec.MAX_VARINT64_BYTES}`);
    expect(prose).toContain(`= ${spec.MAX_EVENT_SIZE} bytes; \`chunk_size\` must be at least ${spec.MIN_CHUNK_SIZE}`);
    // The stated largest event is what the field types add up to.
    const log = spec.parseFields(spec.EVENTS.find((e) => e.name === "LOG")!.fields);
    expect(log.map((f) => f.type)).toEqual(["u32", "u8", "zigzag"]);
    expect(1 + spec.MAX_VARINT64_BYTES + spec.MAX_VARINT32_BYTES + 1 + spec.MAX_LOG_ARGS * spec.MAX_VARINT64_BYTES).toBe(spec.MAX_EVENT_SIZE);
  });

  it("ring modes", () => {
    expect(prose).toContain("ring mode: 0 overwrite oldest, 1 stop when full");
    expect(spec.RING_MODES.map((m) => [m.code, m.name])).toEqual([[0, "overwrite"], [1, "stop"]]);
    expect(prose).toContain(`"mode": "overwrite" / "stop"`);
  });
});

describe("FORMAT.md section 6 cddl matches the trace file schema", () => {
  const rules = cddlMapKeys(markdown);
  it("has the rules the reader checks", () => {
    expect([...rules.keys()].sort()).toEqual(["counters", "device-counters", "footer", "header", "loss", "names", "chunks", "session", "stalls"].sort());
  });

  it("header, session (with anchor), names, chunks, counters", () => {
    expect(rules.get("header")).toEqual([...ITEM_KEYS.header]);
    expect(rules.get("session")).toEqual([
      ...ITEM_KEYS.session.slice(0, -1), "anchor", ...ITEM_KEYS.anchor, ...ITEM_KEYS["session-optional"], ...ITEM_KEYS.earlier,
    ]);
    expect(rules.get("names")).toEqual([...ITEM_KEYS.names]);
    expect(rules.get("chunks")).toEqual([...ITEM_KEYS.chunks]);
    expect(rules.get("counters")).toEqual([...ITEM_KEYS.counters]);
    expect(rules.get("device-counters")).toEqual([...ITEM_KEYS["device-counters"], ...ITEM_KEYS["device-counters-optional"]]);
    expect(markdown).toMatch(/\? "hidden": uint/); // optional: format 1 devices do not send it
  });

  it("loss, stalls and footer bodies", () => {
    expect(rules.get("loss")).toEqual([...ITEM_KEYS.loss, ...ITEM_KEYS["loss-body"]]);
    expect(rules.get("stalls")).toEqual([...ITEM_KEYS.stalls, ...ITEM_KEYS["stalls-body"]]);
    expect(rules.get("footer")).toEqual([...ITEM_KEYS.footer, ...ITEM_KEYS["footer-body"]]);
  });
});

describe("lookup helpers", () => {
  it("tag -> spec and name, category -> bit", () => {
    expect(spec.eventSpec(0x02)?.name).toBe("POLL_BEGIN");
    expect(spec.eventSpec(0x3f)).toBeUndefined();
    expect(spec.kindName(spec.LOG_ARG)).toBe("LOG_ARG");
    expect(spec.kindName(spec.EVENT.AWAIT)).toBe("AWAIT");
    expect(spec.categoryBit("isr")).toBe(10);
    expect(spec.filterMask(["task", "poll"])).toBe(0b11);
    expect(spec.codeName(spec.RESOURCE_OUTCOMES, 2)).toBe("unblocked");
  });
});
