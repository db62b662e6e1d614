// Fuzz target: a whole serial pull (link session, ingest, trace writer) against a scripted device
// whose every frame has a valid CRC and content bent by the input: the input is a tape of
// decisions, one per frame the device sends (leave it, flip a bit, move a chunk's seq by 2^31,
// claim another session, more names than it sends, tick rate 0, counters of 2^64 - 1, ...). Time
// is virtual, so a pull that would take minutes runs in milliseconds. A pull must end within
// MAX_VIRTUAL_MS; the file it wrote must read back without damage (it stores only what it checked).

import { LinkSession, LinkTimeoutError } from "../../host/link/session.js";
import { FrameSplitter } from "../../host/link/frame-decoder.js";
import { DEVICE_FRAME } from "../../host/link/protocol.js";
import { TraceIngest } from "../../host/pull/ingest.js";
import { LinkIngest } from "../../host/pull/link-ingest.js";
import { TraceWriter } from "../../host/tracefile/writer.js";
import { openTrace } from "../../host/tracefile/trace.js";
import { TraceFileError } from "../../host/tracefile/errors.js";
import { ScriptedDevice, STATE_AT, chunkOffsets, countersAt, type RawFrame } from "../support/scripted-device.js";
import { Rng, Tape } from "./mutate.js";
import { scratchFile, type FuzzTarget, type Outcome, type Seed } from "./target.js";

/** A pull that has not ended after this much virtual time never will. */
export const MAX_VIRTUAL_MS = 300_000;
const STEP_MS = 10;

const INTERESTING_U32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000];

function setU32(p: Uint8Array, at: number, v: number): void {
  if (at < 0 || at + 4 > p.length) return;
  new DataView(p.buffer, p.byteOffset, p.byteLength).setUint32(at, v >>> 0, true);
}

function getU32(p: Uint8Array, at: number): number {
  if (at < 0 || at + 4 > p.length) return 0;
  return new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(at, true);
}

/** The misbehaviour a tape byte asks for, applied to one outgoing frame. */
export function bend(tape: Tape, f: RawFrame, device: ScriptedDevice): RawFrame[] {
  if (tape.done) return [f];
  const choice = tape.byte();
  if (choice < 128) return [f]; // half the frames go out as they are
  const p = f.payload.slice();
  const frame = { ...f, payload: p };
  const at = (n: number) => (p.length === 0 ? 0 : tape.below(Math.max(1, p.length - n + 1)));
  const state = STATE_AT[f.type];
  const chunks = f.type === DEVICE_FRAME.RECORDS ? chunkOffsets(p) : [];
  switch (choice % 18) {
    case 0:
      if (p.length > 0) p[at(1)]! ^= 1 << tape.below(8);
      break;
    case 1:
      setU32(p, at(4), INTERESTING_U32[tape.below(INTERESTING_U32.length)]!);
      break;
    case 2: // a chunk's seq moved by 2^31 (give or take)
      if (chunks.length > 0) {
        const c = chunks[tape.below(chunks.length)]!;
        setU32(p, c, getU32(p, c) + 0x80000000 + tape.below(5) - 2);
      }
      break;
    case 3:
      if (chunks.length > 0) setU32(p, chunks[tape.below(chunks.length)]!, tape.u32());
      break;
    case 4: // a frame of another session
      frame.session = tape.u32();
      break;
    case 5:
      return [];
    case 6:
      return [frame, frame];
    case 7:
      frame.seq = (f.seq + 1 + tape.below(0x8000)) & 0xffff;
      break;
    case 8: // claims more names than it has
      if (state !== undefined) setU32(p, state + 1, getU32(p, state + 1) + 1 + tape.below(5000));
      break;
    case 9: // first unsent anywhere
      if (state !== undefined) setU32(p, state + 5, tape.u32());
      break;
    case 10: // a counter of 2^64 - 1
      if (state !== undefined) {
        const c = countersAt(f) + 8 * tape.below(4);
        setU32(p, c, 0xffffffff);
        setU32(p, c + 4, 0xffffffff);
      }
      break;
    case 11: // INFO with tick rate 0
      if (f.type === DEVICE_FRAME.HELLO) setU32(p, 12 + 17 + 3 + 20, 0);
      break;
    case 12: // a restart (another session from here on)
      device.restart(tape.u32());
      frame.session = device.sessionId;
      break;
    case 13:
      return [{ ...frame, payload: p.subarray(0, tape.below(p.length + 1)) }];
    case 14: // oldest kept anywhere
      if (state !== undefined) setU32(p, state + 9, tape.u32());
      break;
    case 15: // a chunk's base time with its top bits set
      if (chunks.length > 0) p[chunks[tape.below(chunks.length)]! + 11] = 0x80 | tape.byte();
      break;
    case 16: // the command answered is another one
      if (state !== undefined) p[0] = tape.byte();
      break;
    default: // the device's next seq (counters) anywhere
      if (state !== undefined) setU32(p, countersAt(f) + 40, tape.u32());
  }
  return [frame];
}

export function linkSeeds(count = 24, seed = 99): Seed[] {
  const r = new Rng(seed);
  const seeds: Seed[] = [{ bytes: new Uint8Array(0) }];
  for (let i = 0; i < count; i++) {
    const n = 4 + r.below(60);
    seeds.push({ bytes: Uint8Array.from({ length: n }, () => r.below(256)) });
  }
  return seeds;
}

export interface PullResult {
  ended: boolean;
  error: Error | undefined;
  virtualMs: number;
  session: LinkSession;
  ingest: TraceIngest;
  device: ScriptedDevice;
}

/** Runs one pull against a device bent by `tape` (virtual time); `file`: the trace file. The
 *  tape's first byte picks a dump (even) or a stream stopped after 2 s (odd). */
export function pullFromScriptedDevice(tapeBytes: Uint8Array, file: string, events = 600): Promise<PullResult> {
  const tape = new Tape(tapeBytes);
  const stream = tapeBytes.length > 0 && (tapeBytes[0]! & 1) === 1;
  return virtualPull(new ScriptedDevice({ events, misbehave: (f, d) => bend(tape, f, d) }), file, stream ? "stream" : "dump");
}

/** A pull (link session, ingest, writer into `file`) from `device`, on virtual time in 10 ms
 *  steps, until it ends or MAX_VIRTUAL_MS pass. */
export async function virtualPull(device: ScriptedDevice, file: string, mode: "dump" | "stream" = "dump"): Promise<PullResult> {
  const writer = new TraceWriter(file);
  writer.header({ tool: "taskscope test", source: "scripted" });
  const ingest = new TraceIngest(writer);
  let vt = 0;
  let tick: (() => void) | undefined;
  const pending: Uint8Array[] = [];
  device.onOutput = (bytes) => pending.push(bytes);
  let session!: LinkSession;
  const splitter = new FrameSplitter(
    (f) => session.frame(f),
    () => session.damaged(),
  );
  session = new LinkSession((bytes) => device.receive(bytes), new LinkIngest(ingest), {
    now: () => vt,
    timer: (fn) => {
      tick = fn;
      return () => (tick = undefined);
    },
    statusMs: 100,
    latencyMs: 20,
  });
  let error: Error | undefined;
  const done = (mode === "stream" ? session.stream() : session.dump()).catch((e: Error) => {
    error = e;
  });
  let stopped = false;
  while (session.running && vt < MAX_VIRTUAL_MS) {
    for (const b of pending.splice(0)) splitter.push(b);
    vt += STEP_MS;
    tick?.();
    if (mode === "stream" && !stopped && vt >= 2000) {
      stopped = true;
      session.stop();
    }
    await Promise.resolve();
  }
  const ended = !session.running;
  if (!ended) session.abandon();
  await done;
  ingest.finish(error ? `failed: ${error.message}` : "dump complete");
  writer.close();
  return { ended, error, virtualMs: vt, session, ingest, device };
}

export class LinkTarget implements FuzzTarget {
  readonly name = "link";
  private readonly file: string;
  private runs = 0;

  constructor(
    readonly seeds: Seed[],
    dir: string,
  ) {
    this.file = scratchFile(dir, "link");
  }

  async run(input: Uint8Array): Promise<Outcome> {
    const r = await pullFromScriptedDevice(input, this.file);
    const outcome: Outcome = { error: undefined };
    if (r.error) {
      if (!(r.error instanceof LinkTimeoutError)) throw r.error;
      outcome.error = r.error.message;
    }
    if (!r.ended) outcome.hang = `the pull had not ended after ${MAX_VIRTUAL_MS / 1000} s (virtual)`;
    // What the pull stored, it checked: the file reads back without damage.
    if ((++this.runs & 3) === 0 || r.error) {
      try {
        const summary = openTrace(this.file).summary();
        if (summary.damaged.length > 0) outcome.misread = `the pull wrote a file with damage: ${summary.damaged[0]!.reason}`;
      } catch (e) {
        if (!(e instanceof TraceFileError)) throw e;
        outcome.misread = `the pull wrote a file that does not read: ${e.message}`;
      }
    }
    return outcome;
  }
}
