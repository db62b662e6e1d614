// The id tables the model keeps its live flows, recently ended tasks and resource users in: they
// must behave exactly as the Map / Set they replace (same answers, insertion order), under the
// churn a trace puts them through (ids reused, deleted in any order, colliding home slots).

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { IdTable, RecordSet, SmallIdMap } from "../host/model/id-table.js";

type Op = { kind: "set" | "delete" | "get"; id: number; value: number };

const ids = fc.oneof(
  fc.integer({ min: 0, max: 40 }), // few ids: reuse and long probe runs
  fc.integer({ min: 0, max: 0xffffffff }),
  fc.constantFrom(0, 16, 32, 48, 64, 2 ** 32, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER),
);
const ops = fc.array(
  fc.record({ kind: fc.constantFrom("set", "set", "delete", "get") as fc.Arbitrary<Op["kind"]>, id: ids, value: fc.integer() }),
  { maxLength: 2000 },
);

interface IdMap<V> {
  readonly size: number;
  get(id: number): V | undefined;
  has(id: number): boolean;
  set(id: number, value: V): void;
  delete(id: number): unknown;
  clear(): void;
}

/** Applies `list` to `table` and to a Map, checking every answer against the Map's (and what
 *  `deleted` says a delete returned, when given); returns the Map. */
function replay(table: IdMap<{ v: number }>, list: { kind: Op["kind"] | "clear"; id: number; value: number }[], deleted?: (id: number) => boolean): Map<number, { v: number }> {
  const map = new Map<number, { v: number }>();
  for (const op of list) {
    if (op.kind === "set") {
      const v = { v: op.value };
      table.set(op.id, v);
      map.set(op.id, v);
    } else if (op.kind === "delete") {
      if (deleted) expect(deleted(op.id)).toBe(map.delete(op.id));
      else {
        table.delete(op.id);
        map.delete(op.id);
      }
    } else if (op.kind === "clear") {
      table.clear();
      map.clear();
    } else {
      expect(table.get(op.id)).toBe(map.get(op.id));
      expect(table.has(op.id)).toBe(map.has(op.id));
    }
    expect(table.size).toBe(map.size);
  }
  for (const id of map.keys()) expect(table.get(id)).toBe(map.get(id));
  return map;
}

describe("IdTable", () => {
  it("answers as a Map does, in the same order, through any sequence of sets and deletes", () => {
    fc.assert(
      fc.property(ops, (list) => {
        const table = new IdTable<{ v: number }>();
        const map = replay(table, list, (id) => table.delete(id));
        expect(table.values()).toEqual([...map.values()]);
      }),
      { numRuns: 300 },
    );
  });

  it("stays the size of what it holds at once after a million ids came and went", () => {
    const table = new IdTable<number>();
    let missed = 0;
    for (let id = 0; id < 1_000_000; id++) {
      table.set(id, id);
      if (id >= 100 && !table.delete(id - 100)) missed++;
    }
    expect(missed).toBe(0);
    expect(table.size).toBe(100);
    expect(table.values()).toEqual(Array.from({ length: 100 }, (_, i) => 999_900 + i));
    table.clear();
    expect(table.size).toBe(0);
    expect(table.get(999_999)).toBeUndefined();
  });
});

describe("SmallIdMap", () => {
  it("answers as a Map does for small and large ids, through sets, deletes and clears", () => {
    const smallAndLarge = fc.oneof(ids, fc.integer({ min: 65530, max: 65541 }));
    const steps = fc.array(
      fc.record({ kind: fc.constantFrom("set", "set", "delete", "get", "clear") as fc.Arbitrary<Op["kind"] | "clear">, id: smallAndLarge, value: fc.integer() }),
      { maxLength: 500 },
    );
    fc.assert(
      fc.property(steps, (list) => void replay(new SmallIdMap<{ v: number }>(), list)),
      { numRuns: 200 },
    );
  });
});

describe("RecordSet", () => {
  it("holds records by index, in insertion order, as a Set of them would", () => {
    const recs = Array.from({ length: 300 }, (_, i) => ({ index: (i * 7919) % 1000 }));
    const set = new RecordSet<{ index: number }>();
    const ref = new Set<{ index: number }>();
    for (const [i, r] of recs.entries()) {
      set.add(r);
      ref.add(r);
      if (i % 3 === 0) {
        const gone = recs[i >> 1]!;
        expect(set.delete(gone)).toBe(ref.delete(gone));
      }
    }
    expect(set.size).toBe(ref.size);
    expect([...set]).toEqual([...ref]);
    expect(set.has(recs[0]!)).toBe(ref.has(recs[0]!));
    expect(set.has({ index: recs[1]!.index })).toBe(false); // another record with the same index
    set.deleteWhere((r) => r.index % 2 === 0);
    expect([...set]).toEqual([...ref].filter((r) => r.index % 2 !== 0));
  });
});
