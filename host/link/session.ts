// The host side of the link protocol (docs/FORMAT.md section 7): says hello, dumps or streams,
// and turns the device's frames into an ordered stream of records per device session, so the
// trace file never sees a chunk twice, out of order, or before the names it uses.
//
// Loss is found three ways: a gap in the frames' sequence numbers (something was lost, so ask for
// a STATUS at once), a gap in chunk sequence numbers, and the device's link state in every STATUS
// (names handed over, the first chunk never sent, the oldest chunk it still holds). A missing
// chunk still on the device is asked for again; one that is gone is reported lost, exactly.
// A frame from another session id means the device restarted (or was cleared): hello again and
// carry on in the new session. Commands are answered in order; one is in flight at a time and is
// sent again when its answer does not come.
//
// A broken or hostile device (frames with valid CRCs and impossible content) cannot keep a pull
// from finishing (FORMAT.md section 8): every answer is checked against the device's own INFO,
// counters and earlier link state; one that cannot be true is a device fault, counted, said in
// `stats.faultNotes` and ignored. Chunks the device's counters say it never recorded are left
// out, counted. Chunks and names it claims to hold but does not send when asked are given up
// after a few tries. Too many faults in a row, sessions that restart without sending anything,
// or a dump that makes no progress end the pull with a LinkProtocolError saying why.

import { decodeRecords, DecodeError, seqAfter, type CountersRecord, type InfoRecord } from "../format/index.js";
import { MAX_SEQ_JUMP, countersProblem, countersRegression, infoProblem, timeProblem } from "../format/limits.js";
import { unixNowNs } from "../tracefile/writer.js";
import { ChunkOrder } from "./chunk-order.js";
import type { ClockAnchor, EarlierPull } from "../tracefile/schema.js";
import {
  COMMAND,
  DEVICE_FRAME,
  DUMP_ALL,
  RESULT,
  decodeHello,
  decodeStatus,
  dumpPayload,
  linkStateProblem,
  encodeFrame,
  filterPayload,
  streamPayload,
  ackPayload,
  type Frame,
  type HelloReply,
  type LinkState,
} from "./protocol.js";

/** Where ordered records go (host/pull/link-ingest.ts writes them to a trace file). */
export interface LinkSink {
  /** A device session starts: its INFO record, the clock anchor from HELLO, and what earlier
   *  connections had pulled of it when this one joined. */
  session(info: Uint8Array, anchor: ClockAnchor, earlier: EarlierPull): void;
  /** Records of the current session, in order: NAMES, CHUNK, COUNTERS (concatenated). */
  records(bytes: Uint8Array): void;
  /** Chunks fromSeq..toSeq (inclusive) of the current session will never arrive. */
  lost(fromSeq: number, toSeq: number, reason: string): void;
}

export interface LinkSessionOptions {
  /** Payload bytes per device frame asked for (default 2048). */
  frameBytes?: number;
  /** Longest an event may wait on the device before it is streamed (ms, default 100). */
  latencyMs?: number;
  /** Interval of the device's unsolicited STATUS in stream mode (ms, default 1000). */
  statusMs?: number;
  /** Stream mode: ask for a STATUS after this much silence (ms, default 200), which is how a
   *  reset device (silent until asked) is noticed. */
  keepaliveMs?: number;
  /** Silence after which a command is sent again (ms, default 500). */
  replyTimeoutMs?: number;
  /** How long to wait for a first answer before giving up (ms, default 3000; 0: forever). */
  connectTimeoutMs?: number;
  /** Filter mask to set before recording starts (undefined: leave it). */
  filter?: number;
  /** Discard what the device recorded before the pull (CLEAR). */
  clear?: boolean;
  /** Chunks held back after a gap before the gap is given up (default 4096). */
  maxHeldChunks?: number;
  /** The link's speed in bytes per second, to wait long enough for a resend (default 11520). */
  bytesPerSecond?: number;
  /** Milliseconds clock, for tests (default performance.now). */
  now?: () => number;
  /** Runs `tick` every `ms` until the returned function is called (default setInterval): tests
   *  and the fuzz harness drive the session on a clock of their own. */
  timer?: (tick: () => void, ms: number) => () => void;
  /** A dump (or a stream's closing dump) that makes no progress this long while the device keeps
   *  answering ends with a LinkProtocolError (ms, default 20000). */
  noProgressMs?: number;
  /** Device faults in a row (answers that cannot be true) before the pull gives up (default 16). */
  maxFaults?: number;
}

export interface LinkStats {
  /** Device sessions entered (boots, resets, clears). */
  sessions: number;
  /** Frames missing between received ones (by sequence number). */
  framesLost: number;
  /** Chunks asked for again. */
  resendRequests: number;
  /** Chunks that arrived after being asked for again. */
  chunksRecovered: number;
  /** Chunks given up: gone from the device before they could be sent again. */
  chunksLost: number;
  /** Chunks received twice and dropped. */
  duplicates: number;
  /** Commands sent again after no answer came. */
  retries: number;
  /** Frames whose records did not decode (dropped; a device bug, not link damage). */
  badFrames: number;
  /** The device's count of damaged command frames. */
  deviceRxDamaged: number;
  /** The latest COUNTERS of the current session. */
  counters: CountersRecord | undefined;
  /** Answers that cannot be true (a broken or hostile device), ignored; the first few in words. */
  faults: number;
  faultNotes: string[];
  /** Chunks left out because the device's own counters say it never recorded them. */
  chunksRejected: number;
}

/** The pull ended before it finished: the device did not answer. */
export class LinkTimeoutError extends Error {}

/** The pull ended before it finished: the device answers, but never so that it can finish (a
 *  broken or hostile device). A LinkTimeoutError too, for callers that handle both alike. */
export class LinkProtocolError extends LinkTimeoutError {}

/** Sessions in a row that sent nothing before the next began: past this, the device is taken to
 *  restart on every command (or its link to be broken). */
const MAX_EMPTY_SESSIONS = 8;
/** Requests for the same missing chunks or names before they are given up. */
const MAX_STALLS = 3;
const MAX_FAULT_NOTES = 10;

type Goal = "none" | "dump" | "stream";

interface Inflight {
  type: number;
  seq: number;
  payload: Uint8Array | undefined;
  firstSentAt: number;
  sentAt: number;
  sentUnixNs: bigint;
  /** Extra wait for the answer: the time the asked-for chunks take on the wire. */
  extraMs: number;
  /** The session's `received` when it was sent: an answer that brought nothing is a stall. */
  mark: number;
}

/** Frame budget for resends: below one chunk record, so each chunk travels in a frame of its own
 *  and one damaged byte costs one chunk. */
const RESEND_FRAME_BYTES = 64;
/** The stream's frame budget never shrinks below this (a frame still amortises its overhead). */
const MIN_STREAM_FRAME_BYTES = 256;
/** Frames between two looks at the damage rate. */
const DAMAGE_WINDOW = 8;

interface DeviceSession {
  id: number;
  announced: boolean;
  lastFrameSeq: number | undefined;
  /** Next name id to pass on (1.. as the device numbers them). */
  nextName: number;
  /** The chunks, put back in order (where data starts is known from the first link state). */
  chunks: ChunkOrder;
  /** Something went missing (a frame seq gap) and no STATUS has said what yet: hold chunks. */
  uncertain: boolean;
  /** The device's link state from its latest HELLO or STATUS. */
  state: LinkState | undefined;
  /** Names the device has handed over that never arrived. */
  namesMissing: boolean;
  /** The closing DUMP of a dump or a stopped stream has been answered. */
  finalDumpDone: boolean;
  /** INFO record and clock anchor from the latest HELLO. */
  info: Uint8Array;
  anchor: ClockAnchor;
  /** What earlier connections had been handed when this pull joined the session (its first HELLO). */
  earlier: EarlierPull;
  /** The device's chunk size (from INFO). */
  chunkSize: number;
  /** Stream flow control: chunks the device may send past our ACK, and what we last ACKed. */
  window: number;
  acked: number | undefined;
  /** The device's INFO and its latest accepted COUNTERS (what later answers are checked against). */
  infoRecord: InfoRecord;
  counters: CountersRecord | undefined;
  /** Chunks and names received (progress), and requests in a row that brought none. */
  received: number;
  stalls: number;
  /** Names the device claims (up to this id) that never came when asked: given up. */
  namesGivenUp: number;
}

/** TASKSCOPE_DEBUG_LINK=1: the conversation, one line per command and answer, on stderr. */
const DEBUG = process.env["TASKSCOPE_DEBUG_LINK"] === "1";
const debug = (text: string): void => {
  if (DEBUG) process.stderr.write(`link: ${text}\n`);
};

export class LinkSession {
  readonly stats: LinkStats = {
    sessions: 0, framesLost: 0, resendRequests: 0, chunksRecovered: 0, chunksLost: 0, duplicates: 0,
    retries: 0, badFrames: 0, deviceRxDamaged: 0, counters: undefined, faults: 0, faultNotes: [], chunksRejected: 0,
  };
  private readonly opt: Required<Omit<LinkSessionOptions, "filter" | "timer">> & { filter: number | undefined };
  private readonly startTimer: (tick: () => void, ms: number) => () => void;
  private faultsInRow = 0;
  private lastFault: string | undefined;
  private emptySessions = 0;
  private lastProgressAt = 0;
  private progressKey = "";
  private dev: DeviceSession | undefined;
  private goal: Goal = "none";
  private stopping = false;
  private connected = true;
  private needHello = true;
  private clearPending: boolean;
  private filterPending: boolean;
  private inflight: Inflight | undefined;
  private cmdSeq = 0;
  private lastFrameAt = 0;
  private startedAt = 0;
  private stopTimer: (() => void) | undefined;
  private waiter: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private out: Uint8Array[] = [];
  /** Stream frame budget now: halved while many frames arrive damaged, grown back when clean. */
  private frameBytes: number;
  private streamBudgetSent = 0;
  /** Smoothed round trip of small commands (ms), for timeouts that fit the link. */
  private srtt: number | undefined;
  private windowGood = 0;
  private windowBad = 0;

  constructor(
    private readonly write: (bytes: Uint8Array) => void,
    private readonly sink: LinkSink,
    options: LinkSessionOptions = {},
  ) {
    this.opt = {
      frameBytes: options.frameBytes ?? 2048,
      latencyMs: options.latencyMs ?? 100,
      statusMs: options.statusMs ?? 1000,
      keepaliveMs: options.keepaliveMs ?? 200,
      replyTimeoutMs: options.replyTimeoutMs ?? 500,
      connectTimeoutMs: options.connectTimeoutMs ?? 3000,
      maxHeldChunks: options.maxHeldChunks ?? 4096,
      bytesPerSecond: options.bytesPerSecond ?? 11520,
      clear: options.clear ?? false,
      filter: options.filter,
      now: options.now ?? (() => performance.now()),
      noProgressMs: options.noProgressMs ?? 20_000,
      maxFaults: options.maxFaults ?? 16,
    };
    this.startTimer =
      options.timer ??
      ((tick, ms) => {
        const t = setInterval(tick, ms);
        return () => clearInterval(t);
      });
    this.frameBytes = this.opt.frameBytes;
    this.clearPending = this.opt.clear;
    this.filterPending = this.opt.filter !== undefined;
  }

  /** The frame decoder dropped a damaged frame: long frames on a noisy line mostly arrive
   *  damaged, so the stream's frames get shorter while that lasts. */
  damaged(): void {
    this.windowBad++;
    this.adjustFrames();
    // Something the device sent may be gone: ask what (rather than wait for the next frame).
    if (this.dev?.announced) {
      this.dev.uncertain = true;
      this.step();
    }
  }

  private adjustFrames(): void {
    const n = this.windowGood + this.windowBad;
    if (n < DAMAGE_WINDOW) return;
    const ratio = this.windowBad / n;
    this.windowGood = 0;
    this.windowBad = 0;
    if (ratio > 0.25) this.frameBytes = Math.max(MIN_STREAM_FRAME_BYTES, this.frameBytes >> 1);
    else if (ratio < 0.02) this.frameBytes = Math.min(this.opt.frameBytes, this.frameBytes * 2);
  }

  /** A dump or stream is under way (its promise has not settled). */
  get running(): boolean {
    return this.goal !== "none";
  }

  /** The device session being recorded (its id), if any. */
  get deviceSession(): number | undefined {
    return this.dev?.announced ? this.dev.id : undefined;
  }

  /** Pulls everything the device has recorded so far; resolves once it is all in (or lost). */
  dump(): Promise<void> {
    return this.begin("dump");
  }

  /** Streams until stop(); resolves after the closing dump. */
  stream(): Promise<void> {
    return this.begin("stream");
  }

  /** Ends a stream: stream off, then a closing dump of everything not yet received. */
  stop(): void {
    debug("stop");
    this.stopping = true;
    this.step();
  }

  /** Gives up waiting: resolves the pending dump or stream as it stands. */
  abandon(): void {
    this.finish();
  }

  /** The transport lost the device (cable pulled, port closed): wait for reconnected(). */
  disconnected(): void {
    debug("port closed");
    this.connected = false;
    this.inflight = undefined;
    this.dev?.chunks.clearAsked(); // a resend asked for is not coming: ask again once back
  }

  /** The transport is back: hello again (same session if the device kept running). */
  reconnected(): void {
    debug("port open again");
    this.connected = true;
    this.needHello = true;
    this.inflight = undefined;
    this.startedAt = this.opt.now();
    this.step();
  }

  /** Takes one checked frame from the frame decoder. */
  frame(f: Frame): void {
    this.lastFrameAt = this.opt.now();
    this.windowGood++;
    this.adjustFrames();
    try {
      if (f.type === DEVICE_FRAME.HELLO) this.onHello(f);
      else if (!this.dev || f.session !== this.dev.id) this.onForeignFrame(f);
      else this.onSessionFrame(this.dev, f);
    } catch (e) {
      if (!(e instanceof RangeError || e instanceof DecodeError)) throw e;
      this.stats.badFrames++;
      this.fault(`a frame of type 0x${f.type.toString(16)} that does not decode (${e.message})`);
    }
    if (this.goal === "none") return; // a fault ended the pull
    this.flushOut();
    this.step();
  }

  // ---- goals and the command loop ----

  private begin(goal: Goal): Promise<void> {
    if (this.goal !== "none") throw new Error("link session already running");
    this.goal = goal;
    this.startedAt = this.opt.now();
    this.lastFrameAt = this.startedAt;
    this.lastProgressAt = this.startedAt;
    this.stopTimer = this.startTimer(() => this.tick(), 10);
    return new Promise<void>((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.step();
    });
  }

  private finish(error?: Error): void {
    debug(`finish${error ? `: ${error.message}` : ""}`);
    this.stopTimer?.();
    this.stopTimer = undefined;
    this.endSession("the pull ended before it arrived");
    this.flushOut();
    const w = this.waiter;
    this.waiter = undefined;
    this.goal = "none";
    if (!w) return;
    if (error) w.reject(error);
    else w.resolve();
  }

  private tick(): void {
    const now = this.opt.now();
    const limit = this.opt.connectTimeoutMs;
    if (this.connected && limit > 0) {
      if (!this.dev && now - this.startedAt > limit) {
        // It may have answered, with nothing a session can start from: say what.
        if (this.lastFault) this.finish(new LinkProtocolError(`the device answered, but not usably: ${this.lastFault}`));
        else this.finish(new LinkTimeoutError(`no answer from the device in ${(limit / 1000).toFixed(1)} s`));
        return;
      }
      // A dump (or a stream's closing dump) gives up when the device falls silent.
      if (this.dev && (this.goal === "dump" || this.stopping) && now - this.lastFrameAt > limit) {
        this.finish(new LinkTimeoutError(`the device stopped answering (nothing for ${(limit / 1000).toFixed(1)} s)`));
        return;
      }
    }
    if (this.dev && (this.goal === "dump" || this.stopping)) {
      const d = this.dev;
      const key = `${d.chunks.next}:${d.nextName}:${d.finalDumpDone}:${this.stats.chunksLost}`;
      if (key !== this.progressKey) {
        this.progressKey = key;
        this.lastProgressAt = now;
      } else if (now - this.lastProgressAt > this.opt.noProgressMs) {
        const why = this.lastFault ? `; last problem: ${this.lastFault}` : "";
        this.finish(new LinkProtocolError(`the dump made no progress for ${(this.opt.noProgressMs / 1000).toFixed(0)} s although the device answers${why}`));
        return;
      }
    }
    const inf = this.inflight;
    // While the device streams, its frames say nothing about our command: time it from when it
    // was sent. Otherwise frames still coming are the answer (a long dump) in progress.
    const streaming = this.dev?.state?.streaming === true;
    const since = streaming || !inf ? inf?.sentAt ?? 0 : Math.max(inf.sentAt, this.lastFrameAt);
    if (inf && now - since > this.replyTimeout() + inf.extraMs) {
      this.stats.retries++;
      if (inf.type === COMMAND.DUMP) {
        // What to ask for may have changed meanwhile: work it out anew.
        this.inflight = undefined;
        this.dev?.chunks.clearAsked();
        this.step();
      } else {
        this.send(inf.type, inf.payload, inf.firstSentAt, inf.extraMs);
      }
      return;
    }
    // Stream mode: a busy device sends frames all the time and an idle one STATUS every statusMs;
    // silence means frames are being lost or the device restarted (it says nothing until asked).
    if (!inf && this.connected && this.goal === "stream" && now - this.lastFrameAt > this.opt.keepaliveMs) {
      this.ack(true);
      this.command(COMMAND.STATUS);
    }
  }

  /** How long an answer may take: four round trips as measured, within [20 ms, replyTimeoutMs]. */
  private replyTimeout(): number {
    if (this.srtt === undefined) return this.opt.replyTimeoutMs;
    return Math.min(this.opt.replyTimeoutMs, Math.max(20, 4 * this.srtt));
  }

  /** The command in flight got its answer. */
  private answered(): void {
    const inf = this.inflight;
    this.inflight = undefined;
    // Round trips of small commands sent once (an answer to a resent one is ambiguous).
    if (!inf || inf.type === COMMAND.DUMP || inf.sentAt !== inf.firstSentAt) return;
    const sample = this.opt.now() - inf.sentAt;
    this.srtt = this.srtt === undefined ? sample : 0.875 * this.srtt + 0.125 * sample;
  }

  /** Sends whatever the state calls for next, if no command is in flight. */
  private step(): void {
    if (this.goal === "none" || this.inflight || !this.connected) return;
    const d = this.dev;
    if (this.needHello || !d) {
      this.command(COMMAND.HELLO);
      return;
    }
    // Set-up before anything is pulled: FILTER (then HELLO again, so the session's INFO carries
    // the new mask), then CLEAR (answered from the new session, so a HELLO follows): what the
    // new session records is filtered from its first event.
    if (this.filterPending) {
      this.filterPending = false;
      this.command(COMMAND.FILTER, filterPayload(this.opt.filter!));
      this.needHello = true;
      return;
    }
    if (this.clearPending) {
      this.clearPending = false;
      this.command(COMMAND.CLEAR);
      return;
    }
    if (!d.announced) this.announce(d);
    if (d.uncertain) {
      // Something was lost. A known chunk gap is asked for at once (the answer's STATUS settles
      // the rest); otherwise STATUS says what is missing.
      if (!this.recover(d)) this.command(COMMAND.STATUS);
      return;
    }
    const streaming = d.state?.streaming === true;
    if (this.goal === "stream" && !this.stopping && (!streaming || this.streamBudgetSent !== this.frameBytes)) {
      this.streamBudgetSent = this.frameBytes;
      d.acked = d.chunks.maxSeen ?? d.chunks.next;
      this.command(
        COMMAND.STREAM,
        streamPayload({ on: true, frameBytes: this.frameBytes, latencyMs: this.opt.latencyMs, statusMs: this.opt.statusMs, window: d.window }),
      );
      return;
    }
    if (this.stopping && streaming) {
      this.command(COMMAND.STREAM, streamPayload({ on: false, frameBytes: this.opt.frameBytes, latencyMs: 0, statusMs: 0, window: 0 }));
      return;
    }
    if (this.recover(d)) return;
    if ((this.goal === "dump" || this.stopping) && !d.finalDumpDone) {
      this.command(
        COMMAND.DUMP,
        dumpPayload({ namesFrom: d.nextName, chunksFrom: d.chunks.next ?? 0, chunkCount: DUMP_ALL, frameBytes: this.frameBytes }),
      );
      return;
    }
    if ((this.goal === "dump" || this.stopping) && d.finalDumpDone && this.complete(d)) this.finish();
  }

  /** Asks for the missing chunks still on the device (and any missing names with them), gives
   *  up chunks that are gone, or asks for missing names alone. Returns true if it sent a request. */
  private recover(d: DeviceSession): boolean {
    const st = d.state;
    const c = d.chunks;
    if (!st || c.next === undefined) return false;
    if (!d.namesMissing) {
      c.dropBefore(st.oldestKept);
      if (!d.uncertain) c.release();
    }
    // Everything below the first unsent chunk, or below a chunk that arrived, was sent.
    const bound = c.maxSeen !== undefined && seqAfter(c.maxSeen, st.firstUnsent) ? c.maxSeen : st.firstUnsent;
    const ask = seqAfter(st.oldestKept, c.next) ? undefined : c.nextRequest(bound, d.window);
    if (ask && d.stalls >= MAX_STALLS) {
      // Asked for again and again, never sent though the device says it holds them: given up.
      c.clearAsked();
      const n = c.giveUpGap("the device did not send them when asked, though it said it held them", bound);
      d.stalls = 0;
      if (n > 0) this.fault(`the device did not send ${n} chunk(s) from ${ask.first} when asked ${MAX_STALLS} times, though its link state says it holds them: given up`);
      this.step();
      return true;
    }
    if (ask) {
      const chunkBytes = d.chunkSize + 32; // a chunk record and its frame
      this.send(
        COMMAND.DUMP,
        dumpPayload({ namesFrom: d.nextName, chunksFrom: ask.first, chunkCount: ask.count, frameBytes: RESEND_FRAME_BYTES }),
        undefined,
        (1000 * ask.count * chunkBytes) / this.opt.bytesPerSecond,
      );
      return true;
    }
    if (d.namesMissing) {
      if (d.stalls >= MAX_STALLS) {
        d.namesGivenUp = st.namesSent;
        d.namesMissing = false;
        d.stalls = 0;
        this.fault(`the device says it handed over names up to id ${st.namesSent}, but sends none from id ${d.nextName} when asked: they stay unnamed`);
        this.release(d);
        return false;
      }
      this.command(COMMAND.DUMP, dumpPayload({ namesFrom: d.nextName, chunksFrom: c.next, chunkCount: 0, frameBytes: RESEND_FRAME_BYTES }));
      return true;
    }
    return false;
  }

  private complete(d: DeviceSession): boolean {
    const st = d.state;
    return !!st && !d.namesMissing && !d.uncertain && d.chunks.isComplete(st.firstUnsent);
  }

  private command(type: number, payload?: Uint8Array): void {
    this.send(type, payload, undefined);
  }

  private send(type: number, payload: Uint8Array | undefined, firstSentAt: number | undefined, extraMs = 0): void {
    this.cmdSeq = (this.cmdSeq % 0xffff) + 1; // 1..65535: 0 marks unsolicited frames
    const now = this.opt.now();
    this.inflight = { type, seq: this.cmdSeq, payload, firstSentAt: firstSentAt ?? now, sentAt: now, sentUnixNs: unixNowNs(), extraMs, mark: this.dev?.received ?? 0 };
    debug(`send command ${type} #${this.cmdSeq} to session ${this.dev?.id ?? 0}${firstSentAt === undefined ? "" : " (again)"}`);
    this.write(encodeFrame(type, this.dev?.id ?? 0, this.cmdSeq, payload));
  }

  // ---- frames ----

  private onHello(f: Frame): void {
    const inf = this.inflight;
    const reply = decodeHello(f.payload);
    const earlier = earlierPull(reply); // before anything changes: a malformed HELLO is a bad frame
    if (!inf || inf.type !== COMMAND.HELLO || reply.command !== inf.seq) return; // a stale answer
    const info = decodeRecords(reply.info)[0];
    const counters = decodeRecords(reply.counters)[0] as CountersRecord;
    if (info?.type !== "INFO") throw new RangeError("HELLO carries no INFO record");
    const same = this.dev !== undefined && this.dev.id === f.session;
    const problem =
      (info.sessionId !== f.session ? `its INFO names session ${info.sessionId}, its frame ${f.session}` : undefined) ??
      infoProblem(info) ??
      timeProblem(reply.now, info.tickHz) ??
      countersProblem(counters) ??
      linkStateProblem(reply.state, counters.nextSeq, info.chunkCount, info.namesCapacity) ??
      (same ? this.sameSessionProblem(this.dev!, reply.state, counters) : undefined);
    if (problem) {
      this.fault(`HELLO: ${problem}`);
      return; // not an answer: asked again, up to the limit of faults
    }
    this.faultsInRow = 0;
    this.answered();
    this.needHello = false;
    const recvNs = unixNowNs();
    const anchor: ClockAnchor = { ticks: reply.now, unixNs: (inf.sentUnixNs + recvNs) / 2n };
    debug(`hello from session ${f.session}${same ? " (the same)" : ""}`);
    if (!same) {
      this.enterSession(f.session, reply.info, info, anchor, earlier);
      if (this.goal === "none") return; // too many empty sessions: the pull ended
    }
    const d = this.dev!;
    d.info = reply.info;
    d.infoRecord = info;
    d.counters = counters;
    d.anchor = anchor;
    d.lastFrameSeq = f.seq;
    this.takeState(d, reply.state);
  }

  /** A frame of a session we are not in: the device restarted or was cleared. */
  private onForeignFrame(f: Frame): void {
    debug(`frame ${f.type} of session ${f.session}, not ours (${this.dev?.id})`);
    const inf = this.inflight;
    if (inf && f.type === DEVICE_FRAME.STATUS) {
      const st = decodeStatus(f.payload);
      if (st.command === inf.seq) this.answered(); // answered (refused, or a CLEAR)
    }
    if (!this.needHello) {
      this.needHello = true;
      if (this.inflight && this.inflight.type !== COMMAND.HELLO) this.inflight = undefined;
    }
  }

  private onSessionFrame(d: DeviceSession, f: Frame): void {
    if (d.lastFrameSeq !== undefined) {
      const gap = (f.seq - d.lastFrameSeq - 1) & 0xffff;
      if (gap > 0 && gap < 0x8000) {
        this.stats.framesLost += gap;
        d.uncertain = true;
      }
    }
    d.lastFrameSeq = f.seq;
    if (f.type === DEVICE_FRAME.RECORDS) {
      const before = d.chunks.maxSeen;
      this.takeRecords(d, f.payload);
      // The device streams only when it has no command to answer, so a frame with chunks never
      // seen before, a round trip after our resend request went out, means the request was
      // answered already (its STATUS lost) or never arrived: work out anew what to ask for.
      const inf = this.inflight;
      const after = d.chunks.maxSeen;
      const fresh = after !== undefined && (before === undefined || seqAfter(after, before));
      if (fresh && inf?.type === COMMAND.DUMP && this.goal === "stream" && !this.stopping && this.opt.now() - inf.sentAt > 1.5 * (this.srtt ?? this.opt.replyTimeoutMs)) {
        this.inflight = undefined;
        d.chunks.clearAsked();
      }
    } else if (f.type === DEVICE_FRAME.STATUS) {
      const st = decodeStatus(f.payload);
      const counters = decodeRecords(st.counters)[0];
      if (st.result !== RESULT.WRONG_SESSION) {
        const problem =
          (counters?.type !== "COUNTERS" ? "no COUNTERS record" : undefined) ??
          countersProblem(counters as CountersRecord) ??
          linkStateProblem(st.state, (counters as CountersRecord).nextSeq, d.infoRecord.chunkCount, d.infoRecord.namesCapacity) ??
          this.sameSessionProblem(d, st.state, counters as CountersRecord);
        if (problem) {
          this.fault(`STATUS: ${problem}`);
          return; // ignored: a command it answered is asked again
        }
      }
      const inf = this.inflight;
      const answers = inf !== undefined && st.command === inf.seq && st.commandType === inf.type;
      debug(`status #${st.command} (${answers ? "answer" : "other"}): unsent ${st.state.firstUnsent} oldest ${st.state.oldestKept} streaming ${st.state.streaming}; next ${d.chunks.next} held ${d.chunks.heldCount} maxSeen ${d.chunks.maxSeen} acked ${d.acked}`);
      if (answers) this.answered();
      else if (inf && st.command === 0 && this.opt.now() - inf.sentAt > 2 * (this.srtt ?? this.opt.replyTimeoutMs)) {
        // The device streams only when it has no command to answer: a stream STATUS this long
        // after ours went out means the command or its answer was lost. Work out anew what to ask.
        this.inflight = undefined;
        if (inf.type === COMMAND.DUMP) d.chunks.clearAsked();
        if (inf.type === COMMAND.STREAM) this.streamBudgetSent = 0;
      }
      if (st.result === RESULT.WRONG_SESSION) {
        this.needHello = true;
        return;
      }
      if (counters?.type === "COUNTERS") {
        this.stats.counters = counters;
        d.counters = counters;
        this.out.push(st.counters);
        // Chunks at or past the next seq the device will use were never recorded: left out.
        const rejected = d.chunks.purge((seq) => !seqAfter(counters.nextSeq, seq));
        if (rejected > 0) {
          this.stats.chunksRejected += rejected;
          this.fault(`${rejected} chunk(s) with sequence numbers the device has not reached (its next is ${counters.nextSeq}): left out`, false);
        }
      }
      this.faultsInRow = 0;
      d.uncertain = false;
      this.ack(true);
      if (answers && inf.type === COMMAND.DUMP && new DataView(inf.payload!.buffer).getUint32(8, true) === DUMP_ALL) {
        d.finalDumpDone = true;
      }
      if (answers && inf.type === COMMAND.DUMP) {
        // Whatever was asked for and did not come is missing again (asked for anew, or given up).
        d.chunks.clearAsked();
        // A request for particular chunks or names that brought nothing is a stall.
        const particular = new DataView(inf.payload!.buffer).getUint32(8, true) !== DUMP_ALL;
        if (particular) d.stalls = d.received === inf.mark ? d.stalls + 1 : 0;
      }
      this.takeState(d, st.state);
    }
  }

  private enterSession(id: number, info: Uint8Array, infoRecord: InfoRecord, anchor: ClockAnchor, earlier: EarlierPull): void {
    const previous = this.dev;
    if (previous?.announced) {
      this.emptySessions = previous.received === 0 ? this.emptySessions + 1 : 0;
      if (this.emptySessions >= MAX_EMPTY_SESSIONS) {
        this.finish(new LinkProtocolError(`the device started ${this.emptySessions} sessions in a row without sending anything: it restarts on every command, or its link is broken`));
        return;
      }
    }
    this.endSession("the device restarted before it arrived");
    this.flushOut();
    this.out = [];
    const chunks = new ChunkOrder(
      {
        chunk: (record) => this.out.push(record),
        lost: (from, to, reason) => {
          this.flushOut();
          this.sink.lost(from, to, reason);
        },
      },
      this.stats,
      this.opt.maxHeldChunks,
    );
    this.dev = {
      id, announced: false, lastFrameSeq: undefined, nextName: 1, chunks, uncertain: false, state: undefined,
      namesMissing: false, finalDumpDone: false, info, anchor, earlier,
      chunkSize: infoRecord.chunkSize,
      // A quarter of the ring may be out beyond our ACK: enough to keep a line busy for many
      // round trips, while a pulled cable swallows at most that much (the rest stays unsent),
      // and three quarters of the ring still hold what was sent, for resends.
      window: Math.max(2, Math.min(32, Math.floor(infoRecord.chunkCount / 4))),
      acked: undefined,
      infoRecord, counters: undefined, received: 0, stalls: 0, namesGivenUp: 0,
    };
  }

  private announce(d: DeviceSession): void {
    d.announced = true;
    this.stats.sessions++;
    this.sink.session(d.info, d.anchor, d.earlier);
    this.flushOut();
  }

  private takeState(d: DeviceSession, st: LinkState): void {
    d.state = st;
    this.stats.deviceRxDamaged = st.rxDamaged;
    // Where this connection's data starts: the oldest chunk the ring holds (all of it is pulled),
    // of which those before the first unsent were sent to an earlier connection.
    d.chunks.startAt(st.oldestKept, st.firstUnsent);
    d.namesMissing = st.namesSent >= d.nextName && st.namesSent > d.namesGivenUp;
    this.release(d);
  }

  private takeRecords(d: DeviceSession, payload: Uint8Array): void {
    const records = decodeRecords(payload);
    for (const r of records) {
      const raw = payload.subarray(r.offset, r.offset + 3 + (payload[r.offset + 1]! | (payload[r.offset + 2]! << 8)));
      if (r.type === "NAMES") {
        if (r.firstId > d.nextName) {
          d.namesMissing = true; // the ones before were lost: asked for again after the next STATUS
          d.uncertain = true;
          continue;
        }
        const end = r.firstId + r.entries.length;
        if (end > d.nextName) {
          this.out.push(raw);
          d.nextName = end;
          d.received++;
        }
      } else if (r.type === "CHUNK") {
        const seq = new DataView(r.payload.buffer, r.payload.byteOffset, 4).getUint32(0, true);
        const impossible = this.impossibleSeq(d, seq);
        if (impossible) {
          this.stats.chunksRejected++;
          this.fault(`chunk seq ${seq} ${impossible}: left out`, false);
          continue;
        }
        const before = d.chunks.heldCount;
        const dup = this.stats.duplicates;
        d.chunks.take(seq, raw);
        if (this.stats.duplicates === dup && d.chunks.heldCount !== before) d.received++;
      } else if (r.type === "COUNTERS") {
        this.out.push(raw);
      }
    }
    this.release(d);
  }

  /** Passes on the chunks that are in order, unless something may still be missing before them
   *  (names, or an unexplained frame gap). */
  private release(d: DeviceSession): void {
    if (!d.uncertain && !d.namesMissing) d.chunks.release();
  }

  /** The current session is over: what waits behind a gap goes on, and every chunk the device
   *  sent that did not arrive is reported. */
  private endSession(reason: string): void {
    const d = this.dev;
    if (!d || !d.announced) return;
    // Held behind a gap with no STATUS since: a chunk further ahead than the device can have got
    // since its last counters said where it was is a damaged number, not the end of a long gap.
    const base = d.counters?.nextSeq ?? d.state?.firstUnsent;
    if (base !== undefined) {
      const limit = (base + 2 * d.infoRecord.chunkCount + 64) >>> 0;
      const rejected = d.chunks.purge((seq) => !seqAfter(limit, seq));
      if (rejected > 0) {
        this.stats.chunksRejected += rejected;
        this.fault(`${rejected} chunk(s) numbered far past what the device had recorded (next seq ${base}): left out`, false);
      }
    }
    d.chunks.finish(reason, d.state?.firstUnsent);
  }

  /** Stream mode: tells the device how far its chunks got (one past the newest received), once
   *  a quarter window more has come in, or again with `force` (on every STATUS and after a
   *  silence: a lost ACK would otherwise leave a full window waiting). Unanswered. A gap below
   *  does not hold the stream back: it is asked for separately, from the ring. */
  private ack(force = false): void {
    const d = this.dev;
    if (!d || !d.announced || this.goal !== "stream" || this.stopping || !this.connected) return;
    const upTo = d.chunks.maxSeen ?? d.chunks.next;
    if (upTo === undefined || (d.acked === upTo && !force)) return;
    const ahead = d.acked === undefined ? d.window : (upTo - d.acked) >>> 0;
    if (!force && ahead < Math.max(1, d.window >> 2)) return;
    d.acked = upTo;
    this.write(encodeFrame(COMMAND.ACK, d.id, 0, ackPayload(upTo)));
  }

  /** An answer that cannot be true: counted and noted; too many in a row end the pull.
   *  `inRow` false: a fault that does not stop the conversation (the rest of the answer was fine). */
  private fault(text: string, inRow = true): void {
    debug(`device fault: ${text}`);
    this.stats.faults++;
    this.lastFault = text;
    const shape = text.replace(/\d+/g, "N");
    if (this.stats.faultNotes.length < MAX_FAULT_NOTES && !this.stats.faultNotes.some((n) => n.replace(/\d+/g, "N") === shape)) {
      this.stats.faultNotes.push(text);
    }
    if (!inRow) return;
    if (++this.faultsInRow >= this.opt.maxFaults && this.goal !== "none") {
      this.finish(new LinkProtocolError(`the device gave ${this.faultsInRow} answers in a row that cannot be true; last: ${text}`));
    }
  }

  /** Why a chunk cannot have that seq: more than 2^24 ahead of anything the device said (no
   *  device gets that far between two frames), or further behind than its ring reaches (it can
   *  only send again what its ring holds). Undefined when it can. */
  private impossibleSeq(d: DeviceSession, seq: number): string | undefined {
    const next = d.chunks.next;
    if (next === undefined) return undefined;
    let front = next;
    for (const s of [d.state?.firstUnsent, d.counters?.nextSeq]) if (s !== undefined && seqAfter(s, front)) front = s;
    const ahead = (seq - front) >>> 0;
    if (ahead < 0x80000000 && ahead >= MAX_SEQ_JUMP) return `is ${ahead} ahead of anything the device said it had (${front})`;
    const behind = (next - seq) >>> 0;
    if (behind > 0 && behind <= 0x80000000 && behind > 2 * d.infoRecord.chunkCount + 64) {
      return `is ${behind} behind the next expected (${next}), further than the device's ring of ${d.infoRecord.chunkCount} reaches`;
    }
    return undefined;
  }

  /** Link state and counters of the session we are in must not go backwards. */
  private sameSessionProblem(d: DeviceSession, st: LinkState, counters: CountersRecord): string | undefined {
    const prev = d.state;
    if (prev) {
      if (seqAfter(prev.oldestKept, st.oldestKept)) return `oldest kept chunk went back from ${prev.oldestKept} to ${st.oldestKept}`;
      if (seqAfter(prev.firstUnsent, st.firstUnsent)) return `first unsent chunk went back from ${prev.firstUnsent} to ${st.firstUnsent}`;
      if (st.namesSent < prev.namesSent) return `names handed over went back from ${prev.namesSent} to ${st.namesSent}`;
    }
    return d.counters ? countersRegression(d.counters, counters) : undefined;
  }

  private flushOut(): void {
    this.ack();
    if (this.out.length === 0 || !this.dev?.announced) return;
    const parts = this.out;
    this.out = [];
    this.sink.records(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
  }
}

/** HELLO's first unsent and its counters' `drained`: what earlier connections were handed. */
function earlierPull(reply: HelloReply): EarlierPull {
  const counters = decodeRecords(reply.counters)[0];
  if (counters?.type !== "COUNTERS") throw new RangeError("HELLO carries no COUNTERS record");
  return { firstUnsent: reply.state.firstUnsent, drained: counters.drained };
}
