// Bytes in, checked frames out: splits the byte stream at 0x00 delimiters, undoes COBS as the
// bytes arrive and checks each frame's length and CRC. Anything between two delimiters that fails
// is counted and dropped, never passed on as data; the next delimiter resynchronises, so noise
// costs at most the frame it lands in.

import { Transform, type TransformCallback } from "node:stream";
import { parseFrame, type Frame } from "./protocol.js";

export interface FrameDecoderStats {
  /** Bytes received. */
  bytes: number;
  /** Frames that checked out. */
  frames: number;
  /** Non-empty stretches between delimiters that were not a valid frame (damage or noise). */
  damaged: number;
  /** Bytes in those stretches. */
  damagedBytes: number;
}

/** Largest frame accepted; a longer run without a delimiter is noise. */
export const MAX_FRAME_BYTES = 1 << 16;

/** Incremental COBS frame splitter: push bytes, get frames (or damage) through the callbacks. */
export class FrameSplitter {
  readonly stats: FrameDecoderStats = { bytes: 0, frames: 0, damaged: 0, damagedBytes: 0 };
  private buf = new Uint8Array(4096);
  private len = 0;
  private encoded = 0; // encoded bytes in the current stretch
  private left = 0; // data bytes left in the current COBS block
  private zero = false; // the current block ends with an implied zero
  private bad = false;

  constructor(
    private readonly onFrame: (frame: Frame) => void,
    private readonly onDamage: (reason: string, bytes: number) => void = () => {},
  ) {}

  push(bytes: Uint8Array): void {
    this.stats.bytes += bytes.length;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (b === 0) {
        this.end();
        continue;
      }
      this.encoded++;
      if (this.bad) continue;
      if (this.left === 0) {
        if (this.zero) this.put(0);
        this.left = b - 1;
        this.zero = b !== 0xff;
      } else {
        this.put(b);
        this.left--;
      }
    }
  }

  private put(b: number): void {
    if (this.len === this.buf.length) {
      if (this.len >= MAX_FRAME_BYTES) {
        this.bad = true;
        return;
      }
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.len++] = b;
  }

  private end(): void {
    const encoded = this.encoded;
    const reason = this.bad ? "frame too long" : this.left !== 0 ? "COBS block cut short" : undefined;
    const len = this.len;
    this.len = 0;
    this.encoded = 0;
    this.left = 0;
    this.zero = false;
    this.bad = false;
    if (encoded === 0) return; // two delimiters in a row
    const frame = reason ?? parseFrame(this.buf.slice(0, len));
    if (typeof frame === "string") {
      this.stats.damaged++;
      this.stats.damagedBytes += encoded + 1;
      this.onDamage(frame, encoded + 1);
      return;
    }
    this.stats.frames++;
    this.onFrame(frame);
  }
}

/** The splitter as a Transform stream: Buffers in, Frame objects out; a "damaged" event (reason,
 *  bytes) for each stretch dropped. */
export class FrameDecoder extends Transform {
  private readonly splitter: FrameSplitter;

  constructor() {
    super({ readableObjectMode: true });
    this.splitter = new FrameSplitter(
      (f) => this.push(f),
      (reason, bytes) => this.emit("damaged", reason, bytes),
    );
  }

  get stats(): FrameDecoderStats {
    return this.splitter.stats;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.splitter.push(chunk);
    done();
  }
}
