// An output file's writes on a thread of their own. Writing an OTLP file is a write(2) of
// ~0.5 KiB per span (886 MiB for 10 M events of a server trace): ~1.8 s of system time on one
// core, while the export thread waits. Here the export thread copies each request into one of a
// few shared slots and goes on; the writer thread writes the slots in order. Order and bounded
// memory are kept by the slots (the export waits when all are full); a request larger than a
// slot is written by the export thread itself, after the writer has caught up.

import { Worker, isMainThread, workerData } from "node:worker_threads";
import { OutputError, ioErrorText, writeFully } from "../output.js";

const SLOTS = 3;
/** Control words: slots filled so far, slots written so far, stop, writer gone, error length. */
const HEAD = 0;
const TAIL = 1;
const STOP = 2;
const GONE = 3;
const ERROR = 4;
const ERROR_BYTES = 1024;

interface WriterData {
  writeThread: true;
  fd: number;
  control: SharedArrayBuffer;
  slots: SharedArrayBuffer[];
  lengths: SharedArrayBuffer;
  error: SharedArrayBuffer;
}

interface WriteFailure {
  code?: string;
  message: string;
}

export class WriteThread {
  private readonly control: Int32Array;
  private readonly slots: Uint8Array[];
  private readonly lengths: Int32Array;
  private readonly error: Uint8Array;
  private readonly worker: Worker;
  private head = 0;
  private stopped = false;
  /** Bytes handed over (written once the writer has caught up). */
  bytes = 0;

  /** Starts a writer for `fd`, whose slots hold `slotBytes` each. `path` names it in errors. */
  constructor(
    private readonly fd: number,
    slotBytes: number,
    private readonly path: string,
  ) {
    const control = new SharedArrayBuffer(4 * 5);
    const slots = Array.from({ length: SLOTS }, () => new SharedArrayBuffer(slotBytes));
    const lengths = new SharedArrayBuffer(4 * SLOTS);
    const error = new SharedArrayBuffer(ERROR_BYTES);
    this.control = new Int32Array(control);
    this.slots = slots.map((s) => new Uint8Array(s));
    this.lengths = new Int32Array(lengths);
    this.error = new Uint8Array(error);
    const data: WriterData = { writeThread: true, fd, control, slots, lengths, error };
    this.worker = new Worker(new URL(import.meta.url), { workerData: data });
    this.worker.unref();
  }

  /** Writes `a` then `b` (a request and its framing), in order after everything before. */
  write(a: Uint8Array, b: Uint8Array): void {
    const n = a.length + b.length;
    if (n > this.slots[0]!.length) {
      // Too large for a slot: written here, once the writer has written everything before it.
      this.drain();
      this.writeHere(a);
      this.writeHere(b);
      this.bytes += n;
      return;
    }
    const c = this.control;
    for (;;) {
      this.check();
      const tail = Atomics.load(c, TAIL);
      if (this.head - tail < SLOTS) break;
      Atomics.wait(c, TAIL, tail, 1000);
    }
    const i = this.head % SLOTS;
    const slot = this.slots[i]!;
    slot.set(a, 0);
    slot.set(b, a.length);
    this.lengths[i] = n;
    this.head++;
    this.bytes += n;
    Atomics.store(c, HEAD, this.head);
    Atomics.notify(c, HEAD);
  }

  /** Waits until everything handed over is written (the writer's error, if any, is thrown). */
  drain(): void {
    const c = this.control;
    for (;;) {
      this.check();
      const tail = Atomics.load(c, TAIL);
      if (tail >= this.head) return;
      Atomics.wait(c, TAIL, tail, 1000);
    }
  }

  /** Ends the writer; with `wait`, only once it can no longer write (before the file is closed). */
  stop(wait = true): void {
    if (this.stopped) return;
    this.stopped = true;
    const c = this.control;
    Atomics.store(c, STOP, 1);
    Atomics.notify(c, HEAD);
    // A writer blocked on a full pipe checks STOP between tries: this wait is short.
    for (let i = 0; wait && i < 20 && Atomics.load(c, GONE) === 0; i++) Atomics.wait(c, GONE, 0, 50);
  }

  private check(): void {
    const n = Atomics.load(this.control, ERROR);
    if (n === 0) return;
    const failure = JSON.parse(Buffer.from(this.error.subarray(0, n)).toString("utf8")) as WriteFailure;
    const e = Object.assign(new Error(failure.message), { code: failure.code, syscall: "write" });
    if (failure.code === "EPIPE") throw e; // the reader left: the caller ends quietly
    throw new OutputError(`cannot write ${this.path}: ${ioErrorText(e)}`);
  }

  private writeHere(bytes: Uint8Array): void {
    try {
      writeFully(this.fd, bytes);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EPIPE") throw e;
      throw new OutputError(`cannot write ${this.path}: ${ioErrorText(e)}`);
    }
  }
}

/** The writer thread: slots in order until told to stop or a write fails. */
function writer(data: WriterData): void {
  const c = new Int32Array(data.control);
  const slots = data.slots.map((s) => new Uint8Array(s));
  const lengths = new Int32Array(data.lengths);
  const stopped = (): boolean => Atomics.load(c, STOP) !== 0;
  let tail = 0;
  try {
    for (;;) {
      const head = Atomics.load(c, HEAD);
      if (head === tail) {
        if (stopped()) return;
        Atomics.wait(c, HEAD, head, 1000);
        continue;
      }
      if (stopped()) return;
      const i = tail % SLOTS;
      writeFully(data.fd, slots[i]!.subarray(0, lengths[i]!), stopped);
      tail++;
      Atomics.store(c, TAIL, tail);
      Atomics.notify(c, TAIL);
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const text = Buffer.from(JSON.stringify({ code: err.code, message: String(err.message).slice(0, 400) } satisfies WriteFailure), "utf8").subarray(0, ERROR_BYTES);
    new Uint8Array(data.error).set(text);
    Atomics.store(c, ERROR, text.length);
    Atomics.notify(c, TAIL);
  } finally {
    Atomics.store(c, GONE, 1);
    Atomics.notify(c, GONE);
  }
}

if (!isMainThread && (workerData as Partial<WriterData> | null)?.writeThread === true) writer(workerData as WriterData);
