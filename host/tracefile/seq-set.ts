// Which chunk sequence numbers of a session have been seen: the reader and the ingest drop a
// chunk seen before (a duplicate) and count it.

import { decodeChunkHeader } from "../format/chunk.js";

/** The seq of a chunk whose events do not decode, if its header does. */
export function readableSeq(payload: Uint8Array): number | undefined {
  try {
    return decodeChunkHeader(payload).seq;
  } catch {
    return undefined;
  }
}

/**
 * A set of u32 chunk sequence numbers as sorted runs: constant memory for a file in order (one
 * run per gap), at most one run per chunk for a hostile one.
 */
export class SeqSet {
  private readonly starts: number[] = [];
  private readonly ends: number[] = []; // exclusive

  has(seq: number): boolean {
    const i = this.runBefore(seq);
    return i >= 0 && seq < this.ends[i]!;
  }

  add(seq: number): void {
    const n = this.starts.length;
    if (n > 0 && this.ends[n - 1] === seq) {
      this.ends[n - 1] = seq + 1; // the usual case: the next chunk in order
      return;
    }
    const i = this.runBefore(seq);
    if (i >= 0 && seq < this.ends[i]!) return;
    const joinsLeft = i >= 0 && this.ends[i] === seq;
    const joinsRight = i + 1 < n && this.starts[i + 1] === seq + 1;
    if (joinsLeft && joinsRight) {
      this.ends[i] = this.ends[i + 1]!;
      this.starts.splice(i + 1, 1);
      this.ends.splice(i + 1, 1);
    } else if (joinsLeft) {
      this.ends[i] = seq + 1;
    } else if (joinsRight) {
      this.starts[i + 1] = seq;
    } else {
      this.starts.splice(i + 1, 0, seq);
      this.ends.splice(i + 1, 0, seq + 1);
    }
  }

  /** Index of the last run starting at or before `seq`, -1 if none. */
  private runBefore(seq: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]! <= seq) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }
}
