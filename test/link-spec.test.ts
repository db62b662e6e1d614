// docs/FORMAT.md section 7 against both sides of the link: the device core (its constants as
// globals of the link harness, and the payload lengths it accepts) and host/link/protocol.ts.
// A change to the document, the core or the host alone fails here.

import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ROOT } from "./support/core-harness.js";
import { loadSpecTables, parseCode, type MarkdownTable } from "./support/spec-tables.js";
import { COUNTERS_SIZE } from "../host/format/spec.js";
import { FrameSplitter } from "../host/link/frame-decoder.js";
import {
  COMMAND,
  DEVICE_FRAME,
  RESULT,
  FRAME_HEADER_BYTES,
  FRAME_CRC_BYTES,
  LINK_VERSION,
  DUMP_ALL,
  decodeStatus,
  dumpPayload,
  streamPayload,
  filterPayload,
  ackPayload,
  encodeFrame,
  type Frame,
} from "../host/link/protocol.js";

const spec = loadSpecTables();
const section = (heading: string): MarkdownTable[] => spec.under(heading);
const constName = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]+/g, "_");
const SIZES: Record<string, number> = { u8: 1, u16: 2, u32: 4, u64: 8 };

/** "names_from u32, chunks_from u32" -> 8; "none" -> 0. */
function payloadBytes(cell: string): number {
  if (cell === "none") return 0;
  return cell.split(",").reduce((n, part) => {
    const type = part.trim().split(/\s+/).at(-1)!;
    const size = SIZES[type];
    if (size === undefined) throw new Error(`payload field without a fixed size: "${part}"`);
    return n + size;
  }, 0);
}

const module = new WebAssembly.Module(readFileSync(resolve(ROOT, "build/test/link-harness.wasm")));
function device() {
  const out: Uint8Array[] = [];
  let memory!: WebAssembly.Memory;
  const instance = new WebAssembly.Instance(module, {
    taskscope: { clock: () => 1000, link_write: (p: number, n: number) => out.push(new Uint8Array(memory.buffer, p, n).slice()) },
  });
  const e = instance.exports as Record<string, unknown> & { memory: WebAssembly.Memory };
  memory = e.memory;
  const f = e as unknown as Record<string, (...a: number[]) => number>;
  f.setup!(0, 1_000_000);
  const global = (name: string) => {
    const g = e[name];
    if (!(g instanceof WebAssembly.Global)) throw new Error(`link harness does not export ${name}`);
    return Number(g.value);
  };
  const send = (bytes: Uint8Array): Frame[] => {
    new Uint8Array(memory.buffer, f.taskscope_link_rx_buffer!(), bytes.length).set(bytes);
    f.taskscope_link_receive!(bytes.length);
    while (f.taskscope_link_service!() !== 0);
    const frames: Frame[] = [];
    new FrameSplitter((fr) => frames.push(fr)).push(Buffer.concat(out.splice(0)));
    return frames;
  };
  return { global, send };
}

describe("FORMAT.md section 7 and the link", () => {
  const [commands, deviceFrames, results] = section("7.2 Frame types and commands");

  it("frame layout: header fields and CRC where the document puts them", () => {
    const rows = section("7.1 Frames")[0]!.rows;
    expect(rows.map((r) => r.field!.split(":")[0]!.split(" (")[0])).toEqual(["frame type", "session id", "sequence number", "payload", "CRC-32 of bytes 0 .. 7 + n - 1"]);
    expect(Number(rows[3]!.offset)).toBe(FRAME_HEADER_BYTES);
    expect(rows[4]!.size).toBe("u32");
    expect(FRAME_CRC_BYTES).toBe(4);
    const d = device();
    expect(d.global("FRAME_HEADER_BYTES")).toBe(FRAME_HEADER_BYTES);
    expect(d.global("FRAME_CRC_BYTES")).toBe(FRAME_CRC_BYTES);
    expect(d.global("LINK_VERSION")).toBe(LINK_VERSION);
    expect(d.global("DUMP_ALL") >>> 0).toBe(DUMP_ALL);
  });

  it("command codes", () => {
    const d = device();
    for (const row of commands!.rows) {
      const code = parseCode(row.code!);
      expect(COMMAND[row.name as keyof typeof COMMAND], row.name).toBe(code);
      expect(d.global(`CMD_${row.name}`), row.name).toBe(code);
    }
    expect(Object.keys(COMMAND).sort()).toEqual(commands!.rows.map((r) => r.name).sort());
  });

  it("device frame types and results", () => {
    const d = device();
    for (const row of deviceFrames!.rows) {
      const code = parseCode(row.code!);
      expect(DEVICE_FRAME[row.name as keyof typeof DEVICE_FRAME], row.name).toBe(code);
      expect(d.global(`FRAME_${row.name}`), row.name).toBe(code);
    }
    expect(Object.keys(DEVICE_FRAME).sort()).toEqual(deviceFrames!.rows.map((r) => r.name).sort());
    for (const row of results!.rows) {
      const code = parseCode(row.code!);
      expect(RESULT[constName(row.name!) as keyof typeof RESULT], row.name).toBe(code);
      expect(d.global(`RESULT_${constName(row.name!)}`), row.name).toBe(code);
    }
  });

  it("command payloads: the host writes the documented length, the device takes exactly that", () => {
    const encoders: Record<string, Uint8Array> = {
      HELLO: new Uint8Array(0),
      DUMP: dumpPayload({ namesFrom: 1, chunksFrom: 0, chunkCount: 0, frameBytes: 256 }),
      STREAM: streamPayload({ on: false, frameBytes: 256, latencyMs: 0, statusMs: 0, window: 0 }),
      FILTER: filterPayload(0x7ff),
      CLEAR: new Uint8Array(0),
      STATUS: new Uint8Array(0),
      ACK: ackPayload(0),
    };
    let seq = 1;
    for (const row of commands!.rows) {
      const bytes = payloadBytes(row.payload!);
      expect(encoders[row.name!]!.length, row.name).toBe(bytes);
      if (row.name === "CLEAR" || row.name === "HELLO" || row.name === "ACK") continue; // (checked in link-core.test.ts)
      const d = device();
      const ok = d.send(encodeFrame(parseCode(row.code!), 0x1234, seq++, new Uint8Array(bytes)));
      expect(decodeStatus(ok.at(-1)!.payload).result, row.name).toBe(RESULT.OK);
      const long = d.send(encodeFrame(parseCode(row.code!), 0x1234, seq++, new Uint8Array(bytes + 1)));
      expect(decodeStatus(long.at(-1)!.payload).result, row.name).toBe(RESULT.BAD_COMMAND);
    }
  });

  it("link state layout", () => {
    const rows = section("7.3 Payloads")[0]!.rows;
    const end = Number(rows.at(-1)!.offset) + SIZES[rows.at(-1)!.size!]!;
    expect(end).toBe(17);
    const d = device();
    const st = d.send(encodeFrame(COMMAND.STATUS, 0x1234, 1)).at(-1)!;
    // command u16, type u8, result u8, link state, then a COUNTERS record (3 + 72 bytes)
    expect(st.payload.length).toBe(2 + 1 + 1 + end + 3 + COUNTERS_SIZE);
  });
});
