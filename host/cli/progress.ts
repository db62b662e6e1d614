// A single status line that rewrites itself on a terminal and stays silent otherwise.

export class ProgressLine {
  private last = 0;
  private shown = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly minIntervalMs = 100,
  ) {}

  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  /** Shows `text` unless the previous update was less than minIntervalMs ago (or `force`). */
  update(text: string, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.last < this.minIntervalMs) return;
    this.last = now;
    const width = this.stream.columns || 100; // 0 when the terminal does not say
    this.stream.write(`\r${text.slice(0, Math.max(10, width - 1))}\x1b[K`);
    this.shown = true;
  }

  /** Clears the line so normal output can follow. */
  done(): void {
    if (this.enabled && this.shown) this.stream.write("\r\x1b[K");
    this.shown = false;
  }
}
