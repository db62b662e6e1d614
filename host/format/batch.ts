// Columnar decoded events (FORMAT.md section 5). One batch is reused across chunks: decoding
// appends rows, `clear()` forgets them, the columns only ever grow (by doubling).

import { kindName } from "./spec.js";

/** One decoded row as a plain object, for tests and small tools. */
export interface DecodedEvent {
  kind: number;
  /** Event name ("POLL_BEGIN", "LOG_ARG", ...). */
  name: string;
  /** Nanoseconds since the device clock's zero. */
  t: number;
  task: number;
  a: number;
  b: number;
  c: number;
  v: number;
}

const INITIAL_CAPACITY = 1024;

export class EventBatch {
  /** Rows in use; rows at and past `length` hold stale data. */
  length = 0;
  kind: Uint8Array;
  t: Float64Array;
  task: Uint32Array;
  a: Uint32Array;
  b: Uint32Array;
  c: Uint32Array;
  v: Float64Array;

  constructor(capacity = INITIAL_CAPACITY) {
    const n = Math.max(1, capacity);
    this.kind = new Uint8Array(n);
    this.t = new Float64Array(n);
    this.task = new Uint32Array(n);
    this.a = new Uint32Array(n);
    this.b = new Uint32Array(n);
    this.c = new Uint32Array(n);
    this.v = new Float64Array(n);
  }

  get capacity(): number {
    return this.kind.length;
  }

  clear(): void {
    this.length = 0;
  }

  /** Makes room for at least `rows` rows in total, doubling so appends stay amortised O(1). */
  reserve(rows: number): void {
    if (rows <= this.kind.length) return;
    let n = this.kind.length * 2;
    while (n < rows) n *= 2;
    this.kind = grow(this.kind, new Uint8Array(n), this.length);
    this.t = grow(this.t, new Float64Array(n), this.length);
    this.task = grow(this.task, new Uint32Array(n), this.length);
    this.a = grow(this.a, new Uint32Array(n), this.length);
    this.b = grow(this.b, new Uint32Array(n), this.length);
    this.c = grow(this.c, new Uint32Array(n), this.length);
    this.v = grow(this.v, new Float64Array(n), this.length);
  }

  /** Appends one row (the slow, convenient path; decodeChunk writes the columns directly). */
  push(kind: number, t: number, task: number, a: number, b: number, c: number, v: number): void {
    const i = this.length;
    this.reserve(i + 1);
    this.kind[i] = kind;
    this.t[i] = t;
    this.task[i] = task;
    this.a[i] = a;
    this.b[i] = b;
    this.c[i] = c;
    this.v[i] = v;
    this.length = i + 1;
  }

  /** Row `i` as a plain object. */
  row(i: number): DecodedEvent {
    const kind = this.kind[i]!;
    return {
      kind,
      name: kindName(kind) ?? `0x${kind.toString(16)}`,
      t: this.t[i]!,
      task: this.task[i]!,
      a: this.a[i]!,
      b: this.b[i]!,
      c: this.c[i]!,
      v: this.v[i]!,
    };
  }

  /** All rows as plain objects (allocates; not for the hot path). */
  toEvents(): DecodedEvent[] {
    const out: DecodedEvent[] = [];
    for (let i = 0; i < this.length; i++) out.push(this.row(i));
    return out;
  }
}

function grow<T extends Uint8Array | Uint32Array | Float64Array>(old: T, next: T, used: number): T {
  next.set(old.subarray(0, used) as never);
  return next;
}
