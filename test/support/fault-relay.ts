// A fault-injecting relay between two ptys: the device's side and trace-pull's side. Bytes pass
// through with bit flips (a bit-error rate), dropped bytes and inserted garbage, in each direction,
// from a seeded generator. It can also play dead (a cable pulled) and reopen the host side after
// that pty was replaced (a USB adapter unplugged and plugged back).
//
// It keeps the books a test needs to check the receiver exactly: the frames that went in, which
// stretches between delimiters came out byte-identical to a frame that went in (intact) and
// which did not (damaged), and, from the device's clean output, every chunk the device sent with
// its bytes and event count (the reference a trace file is compared against).

import { SerialPort } from "serialport";
import { createHash } from "node:crypto";
import { FrameSplitter } from "../../host/link/frame-decoder.js";
import { DEVICE_FRAME, parseFrame, type Frame } from "../../host/link/protocol.js";
import { cobsDecode } from "../../host/link/cobs.js";
import { decodeRecords, decodeChunk, EventBatch } from "../../host/format/index.js";
import { LOG_ARG } from "../../host/format/spec.js";

export interface FaultPlan {
  /** Probability that any one bit is flipped. */
  bitErrorRate: number;
  /** Probability that a byte is dropped. */
  dropRate: number;
  /** Probability, per byte, that 1..8 random bytes are inserted before it. */
  insertRate: number;
}

export const CLEAN: FaultPlan = { bitErrorRate: 0, dropRate: 0, insertRate: 0 };

export interface DirectionStats {
  bytesIn: number;
  bytesOut: number;
  bitFlips: number;
  dropped: number;
  inserted: number;
  /** Frames (non-empty stretches between delimiters) that went in. */
  framesIn: number;
  /** Stretches that came out identical to a frame that went in. */
  intact: number;
  /** Non-empty stretches that came out and match no frame that went in. */
  damaged: number;
}

/** A chunk as the device sent it. */
export interface ReferenceChunk {
  sha1: string;
  events: number;
}

/** mulberry32: small, seedable, good enough to place faults. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (bytes: ArrayLike<number>): string => Buffer.from(bytes as Uint8Array).toString("latin1");

/** One direction: faults applied byte by byte, with the bookkeeping described above. */
export class FaultyDirection {
  readonly stats: DirectionStats = { bytesIn: 0, bytesOut: 0, bitFlips: 0, dropped: 0, inserted: 0, framesIn: 0, intact: 0, damaged: 0 };
  /** Set to drop everything (a pulled cable). */
  dead = false;
  private inSeg: number[] = [];
  private outSeg: number[] = [];
  private readonly pendingFrames = new Map<string, number>();
  private readonly random: () => number;

  constructor(
    public plan: FaultPlan,
    seed: number,
    private readonly onIntact: (segment: Uint8Array) => void = () => {},
  ) {
    this.random = rng(seed);
  }

  process(chunk: Uint8Array): Uint8Array {
    const out: number[] = [];
    const emit = (o: number) => {
      out.push(o);
      if (o !== 0) {
        this.outSeg.push(o);
        return;
      }
      if (this.outSeg.length === 0) return;
      const key = hex(this.outSeg);
      const n = this.pendingFrames.get(key) ?? 0;
      if (n > 0) {
        this.pendingFrames.set(key, n - 1);
        this.stats.intact++;
        this.onIntact(Uint8Array.from(this.outSeg));
      } else {
        this.stats.damaged++;
      }
      this.outSeg = [];
    };
    const { bitErrorRate, dropRate, insertRate } = this.plan;
    const r = this.random;
    for (const b of chunk) {
      this.stats.bytesIn++;
      // What went in, undisturbed.
      if (b === 0) {
        if (this.inSeg.length > 0) {
          const key = hex(this.inSeg);
          this.pendingFrames.set(key, (this.pendingFrames.get(key) ?? 0) + 1);
          this.stats.framesIn++;
          this.inSeg = [];
        }
      } else {
        this.inSeg.push(b);
      }
      if (this.dead) {
        this.stats.dropped++;
        continue;
      }
      if (insertRate > 0 && r() < insertRate) {
        const n = 1 + Math.floor(r() * 8);
        for (let i = 0; i < n; i++) emit(Math.floor(r() * 256));
        this.stats.inserted += n;
      }
      if (dropRate > 0 && r() < dropRate) {
        this.stats.dropped++;
        continue;
      }
      let o = b;
      if (bitErrorRate > 0) {
        for (let bit = 0; bit < 8; bit++) {
          if (r() < bitErrorRate) {
            o ^= 1 << bit;
            this.stats.bitFlips++;
          }
        }
      }
      emit(o);
    }
    this.stats.bytesOut += out.length;
    return Uint8Array.from(out);
  }
}

export interface FaultRelayOptions {
  /** The pty end facing the device. */
  devicePath: string;
  /** The pty end facing trace-pull. */
  hostPath: string;
  toHost: FaultPlan;
  toDevice: FaultPlan;
  seed: number;
}

function openPort(path: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
    port.open((err) => (err ? reject(err) : resolve(port)));
  });
}

export class FaultRelay {
  readonly toHost: FaultyDirection;
  readonly toDevice: FaultyDirection;
  /** Every chunk the device sent, by "session:seq" (a chunk sent twice is the same bytes). */
  readonly reference = new Map<string, ReferenceChunk>();
  /** Chunks that reached the host side in an intact frame, by "session:seq". */
  readonly deliveredIntact = new Set<string>();
  /** Set if the device ever sent one chunk seq with two different contents in a session. */
  conflicts = 0;
  private hostPort: SerialPort | undefined;
  private readonly batch = new EventBatch();

  private constructor(
    private readonly devicePort: SerialPort,
    private readonly opts: FaultRelayOptions,
  ) {
    this.toHost = new FaultyDirection(opts.toHost, opts.seed, (seg) => this.noteIntact(seg));
    this.toDevice = new FaultyDirection(opts.toDevice, opts.seed ^ 0x5bd1e995);
    const clean = new FrameSplitter((f) => this.noteSent(f));
    devicePort.on("data", (d: Buffer) => {
      clean.push(d);
      const out = this.toHost.process(d);
      if (out.length > 0 && this.hostPort?.isOpen) this.hostPort.write(Buffer.from(out));
    });
  }

  static async start(opts: FaultRelayOptions): Promise<FaultRelay> {
    const relay = new FaultRelay(await openPort(opts.devicePath), opts);
    await relay.openHost();
    return relay;
  }

  /** (Re)opens the host side, e.g. after its pty pair was restarted. */
  async openHost(): Promise<void> {
    const port = await openPort(this.opts.hostPath);
    port.on("data", (d: Buffer) => {
      const out = this.toDevice.process(d);
      if (out.length > 0 && this.devicePort.isOpen) this.devicePort.write(Buffer.from(out));
    });
    port.on("error", () => {});
    this.hostPort = port;
  }

  /** A pulled cable: nothing passes either way until revived. */
  set dead(value: boolean) {
    this.toHost.dead = value;
    this.toDevice.dead = value;
  }

  async stop(): Promise<void> {
    for (const port of [this.hostPort, this.devicePort]) {
      if (port?.isOpen) await new Promise<void>((done) => port.close(() => done()));
    }
  }

  private chunksOf(f: Frame): { key: string; payload: Uint8Array }[] {
    if (f.type !== DEVICE_FRAME.RECORDS) return [];
    return decodeRecords(f.payload).flatMap((r) =>
      r.type === "CHUNK" ? [{ key: `${f.session}:${new DataView(r.payload.buffer, r.payload.byteOffset).getUint32(0, true)}`, payload: r.payload }] : [],
    );
  }

  private noteSent(f: Frame): void {
    for (const { key, payload } of this.chunksOf(f)) {
      const sha1 = createHash("sha1").update(payload).digest("hex");
      const known = this.reference.get(key);
      if (known) {
        if (known.sha1 !== sha1) this.conflicts++;
        continue;
      }
      this.batch.clear();
      decodeChunk(payload, 1_000_000, this.batch);
      let events = 0;
      for (let i = 0; i < this.batch.length; i++) if (this.batch.kind[i] !== LOG_ARG) events++;
      this.reference.set(key, { sha1, events });
    }
  }

  private noteIntact(segment: Uint8Array): void {
    const raw = cobsDecode(segment);
    const f = raw && parseFrame(raw);
    if (!f || typeof f === "string") return;
    for (const { key } of this.chunksOf(f)) this.deliveredIntact.add(key);
  }
}
