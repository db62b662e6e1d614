// The chunks of one device session, put back in order: chunks arrive with gaps (damaged frames)
// and come again when asked; what goes out is every chunk once, in sequence order, or a report
// that a run of them will never come. One report per gap, because that is how a trace reader sees
// a gap (FORMAT.md section 6: a stored loss covering the exact gap is not counted twice).
// Every operation costs time in proportion to the chunks held or asked for, never to the size of
// a gap: a sequence number that jumps by 2^31 costs no more than one that jumps by 2.

import { seqAfter } from "../format/chunk.js";

/** Where ordered chunks and gap reports go. */
export interface ChunkOutput {
  /** A CHUNK record (header included), in sequence order. */
  chunk(record: Uint8Array): void;
  /** Chunks fromSeq..toSeq (inclusive) will never come. */
  lost(fromSeq: number, toSeq: number, reason: string): void;
}

export interface ChunkOrderStats {
  /** Chunks received twice and dropped. */
  duplicates: number;
  /** Chunks that arrived after being asked for again. */
  chunksRecovered: number;
  /** Chunks given up. */
  chunksLost: number;
  /** Chunks asked for again. */
  resendRequests: number;
}

const inc = (s: number): number => (s + 1) >>> 0;

/** Why a chunk the device no longer holds never came: it cannot tell which of the two. */
export const GONE = "not received, and no longer on the device (lost on the link, or overwritten before it was sent)";

export class ChunkOrder {
  /** Next seq to pass on; undefined until it is known where this connection's data starts. */
  next: number | undefined;
  /** One past the newest seq received: the device sent every chunk below it. */
  maxSeen: number | undefined;
  /** A chunk arrived in this connection. */
  receivedAny = false;
  /** The first unsent chunk when this connection began: chunks below it were handed to an
   *  earlier connection (a previous pull), not sent to this one. */
  private sentBefore: number | undefined;
  private readonly held = new Map<number, Uint8Array>();
  private readonly asked = new Set<number>();
  private pendingLoss: { from: number; end: number; reason: string } | undefined;

  constructor(
    private readonly out: ChunkOutput,
    private readonly stats: ChunkOrderStats,
    private readonly maxHeld: number,
  ) {}

  get heldCount(): number {
    return this.held.size;
  }

  get askedCount(): number {
    return this.asked.size;
  }

  /** Data starts at `seq` unless a start is known already. `sentBefore` (the device's first
   *  unsent chunk at that moment, default `seq`) marks the chunks from `seq` on that an earlier
   *  connection was sent already. */
  startAt(seq: number, sentBefore: number = seq): void {
    if (this.next !== undefined) return;
    this.next = seq;
    this.sentBefore = seqAfter(sentBefore, seq) ? sentBefore : seq;
  }

  /** Takes a received chunk (kept until release() can pass it on). */
  take(seq: number, record: Uint8Array): void {
    this.startAt(seq);
    if (seqAfter(this.next!, seq) || this.held.has(seq)) {
      this.stats.duplicates++;
      return;
    }
    if (this.asked.delete(seq)) this.stats.chunksRecovered++;
    this.receivedAny = true;
    if (this.maxSeen === undefined || seqAfter(inc(seq), this.maxSeen)) this.maxSeen = inc(seq);
    this.held.set(seq, record.slice());
    if (this.held.size > this.maxHeld) {
      // Too much waiting behind one gap: give the gap up rather than hold memory without end.
      this.giveUp(this.gapEnd(this.next!, undefined), "not received in time");
      this.release();
    }
  }

  /** Passes on what is held from `next` on, in order, up to the first gap. */
  release(): void {
    if (this.next === undefined) return;
    for (let c = this.held.get(this.next); c !== undefined; c = this.held.get(this.next)) {
      this.held.delete(this.next);
      this.passOn(c);
      this.next = inc(this.next);
    }
  }

  /** The device no longer holds chunks before `oldestKept`: what we hold of them goes on, the
   *  rest is given up and reported. Not whether this connection has received anything yet
   *  decides that: the device may have sent it chunks into damaged frames and overwritten them
   *  before the first one arrived. The one exception is a run, before anything arrived, of
   *  chunks an earlier connection was sent (below `sentBefore`): that one had them. */
  dropBefore(oldestKept: number): void {
    while (this.next !== undefined && seqAfter(oldestKept, this.next)) {
      if (this.held.has(this.next)) {
        this.release();
        continue;
      }
      const end = this.gapEnd(this.next, oldestKept);
      const before = this.sentBefore;
      if (!this.receivedAny && before !== undefined && seqAfter(before, this.next)) {
        this.giveUp(seqAfter(end, before) ? before : end, undefined);
        continue;
      }
      this.giveUp(end, GONE);
    }
  }

  /**
   * The next range to ask for again: from the first chunk below `bound` (everything below it was
   * sent) that is neither held nor asked for, up to the last such chunk within `span` of it (on a
   * noisy line gaps come close together: one round trip for all of them beats one each, and
   * what is held is dropped as a duplicate when it comes again). Marks the gaps asked for.
   */
  nextRequest(bound: number, span: number): { first: number; count: number } | undefined {
    if (this.next === undefined) return undefined;
    let first: number | undefined;
    for (let s = this.next; seqAfter(bound, s); s = inc(s)) {
      if (this.missing(s)) {
        first = s;
        break;
      }
    }
    if (first === undefined) return undefined;
    let end = inc(first);
    const limit = (first + Math.max(1, span)) >>> 0;
    for (let s = end; seqAfter(bound, s) && seqAfter(limit, s); s = inc(s)) if (this.missing(s)) end = inc(s);
    for (let s = first; s !== end; s = inc(s)) {
      if (!this.missing(s)) continue;
      this.asked.add(s);
      this.stats.resendRequests++;
    }
    return { first, count: (end - first) >>> 0 };
  }

  /** Drops the held chunks `reject` says are impossible (the device's own state says it never
   *  sent them); returns how many. `maxSeen` then rests on what is left. */
  purge(reject: (seq: number) => boolean): number {
    let n = 0;
    for (const seq of [...this.held.keys()]) {
      if (!reject(seq)) continue;
      this.held.delete(seq);
      n++;
    }
    if (n > 0) {
      let max = this.next;
      for (const seq of this.held.keys()) if (max === undefined || seqAfter(inc(seq), max)) max = inc(seq);
      this.maxSeen = max;
    }
    return n;
  }

  /** Gives up the gap at `next` (up to the next held chunk, or to `sent`), reporting `reason`:
   *  the device said it has those chunks but does not send them. Returns the chunks given up. */
  giveUpGap(reason: string, sent: number): number {
    if (this.next === undefined) return 0;
    const end = this.held.size > 0 ? this.gapEnd(this.next, sent) : sent;
    const count = (end - this.next) >>> 0;
    if (count === 0 || count >= 0x80000000) return 0;
    this.giveUp(end, reason);
    this.release();
    return count;
  }

  /** What was asked for and has not come is missing again (to be asked for anew, or given up). */
  clearAsked(): void {
    this.asked.clear();
  }

  /** Nothing held, nothing asked for, and everything below `sent` passed on. */
  isComplete(sent: number): boolean {
    return this.held.size === 0 && this.asked.size === 0 && this.next === sent;
  }

  /** The session is over: what is held goes on, and every chunk sent before `sent` (or before the
   *  newest one received) that did not arrive is reported with `reason`. */
  finish(reason: string, sent: number | undefined): void {
    if (this.next === undefined) return;
    while (this.held.size > 0) {
      this.giveUp(this.gapEnd(this.next, undefined), reason);
      this.release();
    }
    const bound = sent !== undefined && (this.maxSeen === undefined || seqAfter(sent, this.maxSeen)) ? sent : this.maxSeen;
    if (bound !== undefined && seqAfter(bound, this.next)) this.giveUp(bound, reason);
    this.flushLoss();
  }

  /** Reports a gap waiting for the chunk after it (at the end of a session). */
  flushLoss(): void {
    const p = this.pendingLoss;
    if (!p) return;
    this.pendingLoss = undefined;
    this.out.lost(p.from, (p.end - 1) >>> 0, p.reason);
  }

  private missing(s: number): boolean {
    return !this.held.has(s) && !this.asked.has(s);
  }

  /** End (exclusive) of the run of chunks from `from` that we do not hold, at most `limit`
   *  (undefined: up to the next held one, or `from` itself when nothing is held). */
  private gapEnd(from: number, limit: number | undefined): number {
    let nearest: number | undefined;
    for (const seq of this.held.keys()) {
      const d = (seq - from) >>> 0;
      if (d < 0x80000000 && (nearest === undefined || d < nearest)) nearest = d;
    }
    if (limit === undefined) return nearest === undefined ? from : (from + nearest) >>> 0;
    const toLimit = (limit - from) >>> 0;
    if (toLimit >= 0x80000000) return from; // the limit is not ahead: nothing to give up
    return nearest !== undefined && nearest < toLimit ? (from + nearest) >>> 0 : limit;
  }

  /** Moves `next` to `end`, giving up what lies between (reported unless `reason` is undefined). */
  private giveUp(end: number, reason: string | undefined): void {
    const from = this.next!;
    const count = (end - from) >>> 0;
    if (count === 0) return;
    for (const s of [...this.asked]) if (((s - from) >>> 0) < count) this.asked.delete(s);
    this.next = end;
    if (reason === undefined) return;
    this.stats.chunksLost += count;
    const p = this.pendingLoss;
    if (p && p.end === from) {
      p.end = end;
      return;
    }
    this.flushLoss();
    this.pendingLoss = { from, end, reason };
  }

  private passOn(record: Uint8Array): void {
    this.flushLoss();
    this.out.chunk(record);
  }
}
