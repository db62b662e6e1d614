// Serial source: a device's UART through the `serialport` package (a USB adapter, a board's own
// USB CDC port, or a pseudo-terminal). Bytes go through the frame splitter; checked frames come
// out. When the port goes away (cable pulled, adapter reset) it is reopened by path until it is
// back, and the caller is told both ways, so the link session can say hello again.

import { SerialPort } from "serialport";
import { FrameDecoder, type FrameDecoderStats } from "../link/frame-decoder.js";
import type { Frame } from "../link/protocol.js";

export interface SerialSourceOptions {
  path: string;
  baudRate: number;
  onFrame: (frame: Frame) => void;
  /** A stretch of bytes between delimiters was not a valid frame (dropped). */
  onDamage?: () => void;
  /** The port closed unexpectedly; reopening is under way. */
  onDisconnect?: (reason: string) => void;
  /** The port is open again. */
  onReconnect?: () => void;
  /** Wait between reopen attempts (ms, default 250). */
  reopenMs?: number;
}

/** A port that cannot be used, said in one line. */
export class SerialSourceError extends Error {}

export class SerialSource {
  /** Every port opened is piped into this one decoder, so a reopen carries on where it was. */
  readonly decoder = new FrameDecoder();
  /** Bytes written to the port. */
  bytesOut = 0;
  private port: SerialPort | undefined;
  private closing = false;
  private reopenTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: SerialSourceOptions) {
    this.decoder.on("data", opts.onFrame);
    this.decoder.on("damaged", () => opts.onDamage?.());
  }

  get stats(): FrameDecoderStats {
    return this.decoder.stats;
  }

  get isOpen(): boolean {
    return this.port?.isOpen === true;
  }

  /** Opens the port; rejects with a SerialSourceError saying why it cannot be used. */
  async open(): Promise<void> {
    this.port = await this.openPort();
  }

  write(bytes: Uint8Array): void {
    const port = this.port;
    if (!port?.isOpen) return; // the session resends once the port is back
    this.bytesOut += bytes.length;
    port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  /** Closes the port after what was written has left. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    const port = this.port;
    this.port = undefined;
    if (!port?.isOpen) return;
    // What was written should leave first, but a port nobody reads may never drain.
    await new Promise<void>((done) => {
      const timer = setTimeout(done, 500);
      port.drain(() => {
        clearTimeout(timer);
        done();
      });
    });
    await new Promise<void>((done) => port.close(() => done()));
  }

  private openPort(): Promise<SerialPort> {
    const { path, baudRate } = this.opts;
    return new Promise((resolve, reject) => {
      const port = new SerialPort({ path, baudRate, autoOpen: false });
      port.open((err) => {
        if (err) {
          reject(new SerialSourceError(describeOpenError(path, err)));
          return;
        }
        port.pipe(this.decoder, { end: false });
        port.on("error", () => {}); // a close follows; reported there
        port.on("close", () => this.lost(port));
        resolve(port);
      });
    });
  }

  private lost(port: SerialPort): void {
    if (this.closing || port !== this.port) return;
    this.port = undefined;
    this.opts.onDisconnect?.(`${this.opts.path} closed`);
    this.scheduleReopen();
  }

  private scheduleReopen(): void {
    if (this.closing) return;
    this.reopenTimer = setTimeout(async () => {
      try {
        const port = await this.openPort();
        if (this.closing) {
          port.close();
          return;
        }
        this.port = port;
        this.opts.onReconnect?.();
      } catch {
        this.scheduleReopen();
      }
    }, this.opts.reopenMs ?? 250);
  }
}

/** serialport's open errors in words a user can act on. */
export function describeOpenError(path: string, err: Error): string {
  const m = err.message;
  if (/No such file or directory/i.test(m)) return `${path}: no such port (is the device plugged in?)`;
  if (/Cannot lock port|Resource temporarily unavailable|EBUSY/i.test(m)) return `${path} is busy: another program has it open`;
  if (/Permission denied|EACCES/i.test(m)) return `${path}: permission denied (add yourself to the port's group, e.g. dialout)`;
  if (/Is a directory/i.test(m)) return `${path} is a directory, not a serial port`;
  if (/Inappropriate ioctl|ENOTTY/i.test(m)) return `${path} is not a serial port`;
  return `${path}: cannot open (${m.replace(/^Error:?\s*/, "")})`;
}
