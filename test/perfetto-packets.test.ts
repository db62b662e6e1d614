// The Perfetto packet writer's hand-written bytes (host/export/perfetto/packets.ts: varints,
// tags and lengths written straight into the buffer, constant strings interned by slot), decoded
// with Perfetto's published schema through protobufjs, independently of the writer.

import { describe, it, expect } from "vitest";
import { join } from "node:path";
import protobuf from "protobufjs";
import type { OutputFile } from "../host/export/output.js";
import { Interned, PacketWriter, TYPE } from "../host/export/perfetto/packets.js";
import { ProtoWriter } from "../host/export/proto-writer.js";
import { ROOT } from "./support/core-harness.js";

type Obj = Record<string, unknown>;

const schema = protobuf.loadSync(join(ROOT, "test/proto/perfetto_trace.proto"));
const Trace = schema.lookupType("perfetto.protos.Trace");

/** A writer whose output is kept in memory, and a way to decode it. */
function writer(): { w: PacketWriter; packets: () => Obj[] } {
  const chunks: Buffer[] = [];
  const out = { writeNow: (b: Uint8Array) => void chunks.push(Buffer.from(b)) } as unknown as OutputFile;
  const w = new PacketWriter(out);
  return {
    w,
    packets: () => {
      w.flush();
      const t = Trace.toObject(Trace.decode(Buffer.concat(chunks)), { longs: String, bytes: String, defaults: false }) as { packet?: Obj[] };
      return t.packet ?? [];
    },
  };
}

const events = (packets: Obj[]) => packets.filter((p) => p["trackEvent"]);

describe("Perfetto packet writer", () => {
  it("writes timestamps, tracks and numbers of every size as varints Perfetto reads back", () => {
    const { w, packets } = writer();
    w.startSequence(1, 0, 0n);
    const key = Interned.fixed("n");
    // Whole ns around each varint length, up to and past 2^53 (kept as the double it is).
    const times = [0, 1, 127, 128, 16383, 16384, 2 ** 28 - 1, 2 ** 28, 2 ** 32 - 1, 2 ** 32, 2 ** 35 + 5, 123_456_789_012_345, 2 ** 53 - 1, 2 ** 53, 2 ** 60];
    for (const t of times) {
      w.event(1, t, TYPE.instant, t < 2 ** 53 ? t : 7);
      w.argInt(key, t);
      w.done();
    }
    const got = events(packets());
    expect(got.map((p) => BigInt(String(p["timestamp"])))).toEqual(times.map((t) => BigInt(t)));
    expect(got.map((p) => String((p["trackEvent"] as Obj)["trackUuid"]))).toEqual(times.map((t) => String(t < 2 ** 53 ? t : 7)));
    const args = got.map((p) => ((p["trackEvent"] as Obj)["debugAnnotations"] as Obj[])[0]!);
    // Safe integers as int_value, the rest (2^53 and up) as doubles.
    expect(args.map((a) => a["intValue"] ?? a["doubleValue"])).toEqual(times.map((t) => (Number.isSafeInteger(t) ? String(t) : t)));
  });

  it("rounds fractional times, clamps negative ones to 0, and writes other numbers as they are", () => {
    const { w, packets } = writer();
    w.startSequence(3, 0, 0n);
    const key = Interned.fixed("v");
    const values = [-1, -(2 ** 40), 1.5, 2 ** 32 + 0.5, Number.MAX_SAFE_INTEGER, -0];
    for (const v of values) {
      w.event(3, v, TYPE.counter, 9);
      w.counterValue(v);
      w.done();
      w.event(3, 5.5, TYPE.instant, 9);
      w.argInt(key, v);
      w.done();
    }
    const got = events(packets());
    const counters = got.filter((_, i) => i % 2 === 0).map((p) => p["trackEvent"] as Obj);
    const instants = got.filter((_, i) => i % 2 === 1);
    expect(counters.map((e) => e["counterValue"] ?? e["doubleCounterValue"])).toEqual(["-1", String(-(2 ** 40)), 1.5, 2 ** 32 + 0.5, String(Number.MAX_SAFE_INTEGER), "0"]);
    expect(got.filter((_, i) => i % 2 === 0).map((p) => p["timestamp"] ?? "0")).toEqual(["0", "0", "2", String(2 ** 32 + 1), String(Number.MAX_SAFE_INTEGER), "0"]);
    expect(instants.map((p) => p["timestamp"])).toEqual(values.map(() => "6"));
    const args = instants.map((p) => ((p["trackEvent"] as Obj)["debugAnnotations"] as Obj[])[0]!);
    expect(args.map((a) => a["intValue"] ?? a["doubleValue"])).toEqual(["-1", String(-(2 ** 40)), 1.5, 2 ** 32 + 0.5, String(Number.MAX_SAFE_INTEGER), "0"]);
  });

  it("interns a string once per sequence, whether it comes as a constant or as text", () => {
    const { w, packets } = writer();
    const poll = Interned.fixed("poll");
    const result = Interned.fixed("result");
    const pending = Interned.fixed("pending");
    w.startSequence(1, 0, 0n);
    w.startSequence(2, 0, 0n);
    for (const seq of [1, 2, 1, 2]) {
      w.event(seq, 10, TYPE.sliceBegin, 5);
      w.nameStatic(poll);
      w.category(poll);
      w.argInt(poll, 3);
      w.done();
      w.event(seq, 20, TYPE.sliceEnd, 5);
      w.argStringStatic(result, "pending");
      w.argStringStatic(Interned.of("result"), pending);
      w.done();
    }
    w.event(1, 30, TYPE.instant, 5);
    w.nameStatic("poll");
    w.nameIid(w.internName("other"));
    w.done();
    const got = events(packets());
    // Each sequence's first two events carry its interned strings; nothing is interned twice.
    const interned = got.map((p) => p["internedData"] as Obj | undefined);
    expect(interned.map((d) => d !== undefined)).toEqual([true, true, true, true, false, false, false, false, true]);
    expect(interned[0]).toEqual({ eventCategories: [{ iid: "1", name: "poll" }], eventNames: [{ iid: "1", name: "poll" }], debugAnnotationNames: [{ iid: "1", name: "poll" }] });
    expect(interned[1]).toEqual({ debugAnnotationNames: [{ iid: "2", name: "result" }], debugAnnotationStringValues: [{ iid: "1", str: Buffer.from("pending").toString("base64") }] });
    expect(interned[8]).toEqual({ eventNames: [{ iid: "2", name: "other" }] });
    for (const p of got.filter((_, i) => i % 2 === 1 && i < 8)) {
      expect((p["trackEvent"] as Obj)["debugAnnotations"]).toEqual([{ nameIid: "2", stringValueIid: "1" }, { nameIid: "2", stringValueIid: "1" }]);
    }
    expect((got[8]!["trackEvent"] as Obj)["nameIid"]).toBe("2");
  });

  it("writes flows, arrays and long events (lengths past one byte)", () => {
    const { w, packets } = writer();
    w.startSequence(1, 0, 0n);
    w.event(1, 1, TYPE.instant, 2);
    w.name("x".repeat(300));
    for (let i = 0; i < 40; i++) w.flow(2 ** 40 + i);
    w.argArray(Interned.fixed("list"));
    for (let i = 0; i < 30; i++) w.itemInt(i * 1000);
    w.endArray();
    w.done();
    const [e] = events(packets());
    const te = e!["trackEvent"] as Obj;
    expect(te["name"]).toBe("x".repeat(300));
    expect(te["flowIds"]).toEqual(Array.from({ length: 40 }, (_, i) => String(2 ** 40 + i)));
    const list = (te["debugAnnotations"] as Obj[])[0]!["arrayValues"] as Obj[];
    expect(list.map((x) => x["intValue"] ?? "0")).toEqual(Array.from({ length: 30 }, (_, i) => String(i * 1000)));
  });

  it("writes string, task label and bool arguments short or long, ASCII or not, with their lengths", () => {
    const { w, packets } = writer();
    w.startSequence(1, 0, 0n);
    // Around the longest value written in one go (123 bytes), and characters that are not ASCII.
    const texts = ["", "a", "x".repeat(122), "x".repeat(123), "x".repeat(124), "x".repeat(300), "é", `${"x".repeat(120)}é`, "ab€c😀", "\u0000\u007f"];
    const labels: [string, number][] = [
      ["worker", 0], ["worker", 7], ["worker", 4294967295], ["worker", 4294967296], ["worker", -1], ["worker", 1.5], ["", 12],
      ["x".repeat(114), 1], ["x".repeat(115), 1], ["x".repeat(105), 4294967295], ["é", 3], ["x".repeat(200), 9],
    ];
    const text = Interned.fixed("text");
    const label = Interned.fixed("label");
    const flag = Interned.fixed("flag");
    for (const t of texts) {
      w.event(1, 1, TYPE.instant, 2);
      w.argString(text, t);
      w.done();
    }
    for (const [name, id] of labels) {
      w.event(1, 1, TYPE.instant, 2);
      w.argTaskLabel(label, name, id);
      w.done();
    }
    for (const b of [true, false]) {
      w.event(1, 1, TYPE.instant, 2);
      w.argBool(flag, b);
      w.done();
    }
    const got = events(packets()).map((p) => ((p["trackEvent"] as Obj)["debugAnnotations"] as Obj[])[0]!);
    const utf8 = (x: string) => Buffer.from(x, "utf8").toString("utf8"); // lone surrogates as UTF-8 writes them
    expect(got.map((a) => a["stringValue"] ?? a["boolValue"])).toEqual([
      ...texts.map(utf8),
      ...labels.map(([name, id]) => utf8(`${name} (task ${id})`)),
      true,
      false,
    ]);
  });
});

describe("ProtoWriter strings", () => {
  // A string field decoded by protobufjs's reader: the writer's bytes, read independently.
  const read = (w: ProtoWriter) => {
    const r = protobuf.Reader.create(w.bytes());
    r.uint32(); // the tag
    return r.string();
  };

  it("writes short and long, ASCII and non-ASCII strings as UTF-8 with their byte length", () => {
    const texts = ["", "a", "x".repeat(127), "x".repeat(128), "é", "ab€c", `${"x".repeat(126)}é`, `${"y".repeat(200)}😀`, "\u0000\u007f", "\ud800 lone"];
    for (const text of texts) {
      const w = new ProtoWriter(4);
      w.tag(1, 2);
      w.string(text);
      const expected = Buffer.from(text, "utf8");
      const length = protobuf.Reader.create(w.bytes().subarray(1)).uint32();
      expect(length, JSON.stringify(text.slice(0, 10))).toBe(expected.length);
      expect(read(w)).toBe(expected.toString("utf8"));
    }
  });
});
