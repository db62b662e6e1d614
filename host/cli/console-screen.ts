// The live console's drawing surface: lines of styled text cut and padded to the terminal's
// width in cells (wide characters take two, combining marks none), encoded with SGR attributes,
// and painted on the alternate screen by rewriting only the lines that changed since the last
// frame. Colour is dropped when the user asked for none; bold and inverse video stay (they are
// not colour, and the selected row must show).

import { eastAsianWidth } from "get-east-asian-width";

export type Colour = "red" | "green" | "yellow" | "blue" | "magenta" | "cyan" | "grey";

export interface Style {
  fg?: Colour;
  bold?: boolean;
  dim?: boolean;
  inverse?: boolean;
}

export interface Span {
  text: string;
  style?: Style;
}

/** One screen line: spans drawn left to right; `fill` styles the padding up to the width. */
export interface Line {
  spans: Span[];
  fill?: Style;
}

export function line(...spans: (Span | string)[]): Line {
  return { spans: spans.map((s) => (typeof s === "string" ? { text: s } : s)) };
}

export function span(text: string, style?: Style): Span {
  return style ? { text, style } : { text };
}

// Zero-width: combining marks, format characters (joiners, soft hyphen), variation selectors.
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]$/u;

function charWidth(ch: string): number {
  const cp = ch.codePointAt(0)!;
  if (cp < 0x7f) return cp < 0x20 ? 0 : 1;
  if (ZERO_WIDTH.test(ch)) return 0;
  return eastAsianWidth(cp, { ambiguousAsWide: false });
}

/** Terminal cells `text` takes (text from a trace is escaped first: no control characters). */
export function cellWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += charWidth(ch);
  return w;
}

/** `text` cut to at most `width` cells; with `ellipsis`, a cut ends in "…". */
export function clip(text: string, width: number, ellipsis = false): string {
  if (width <= 0) return "";
  if (cellWidth(text) <= width) return text;
  const room = ellipsis ? width - 1 : width;
  let out = "";
  let w = 0;
  for (const ch of text) {
    const cw = charWidth(ch);
    if (w + cw > room) break;
    out += ch;
    w += cw;
  }
  return ellipsis ? `${out}…` : out;
}

/** `text` padded with spaces to `width` cells (cut first if longer), on the left for "right". */
export function pad(text: string, width: number, align: "left" | "right" = "left"): string {
  const cut = clip(text, width, true);
  const gap = " ".repeat(Math.max(0, width - cellWidth(cut)));
  return align === "right" ? gap + cut : cut + gap;
}

const FG: Record<Colour, number> = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, grey: 90 };

function sgr(style: Style | undefined, colour: boolean): string {
  if (!style) return "";
  const codes: number[] = [];
  if (style.bold) codes.push(1);
  if (style.dim) codes.push(2);
  if (style.inverse) codes.push(7);
  if (colour && style.fg) codes.push(FG[style.fg]);
  return codes.length === 0 ? "" : `\x1b[${codes.join(";")}m`;
}

/** The line as terminal text exactly `width` cells wide, starting and ending with no attribute
 *  set. */
export function encodeLine(l: Line, width: number, colour: boolean): string {
  let out = "";
  let used = 0;
  for (const s of l.spans) {
    if (used >= width) break;
    const text = clip(s.text, width - used);
    if (text === "") continue;
    // A wide character that did not fit leaves a cell: the padding below fills it.
    const on = sgr(s.style, colour);
    out += on === "" ? text : `${on}${text}\x1b[0m`;
    used += cellWidth(text);
  }
  if (used < width) {
    const on = sgr(l.fill, colour);
    const gap = " ".repeat(width - used);
    out += on === "" ? gap : `${on}${gap}\x1b[0m`;
  }
  return out;
}

/** Where frames go: the terminal (a tty stream), or anything with the same three members. */
export interface Terminal {
  columns: number;
  rows: number;
  write(text: string): unknown;
}

/**
 * Paints frames on the alternate screen. Each frame is exactly the terminal's size: lines past
 * its height are not drawn, each line is cut or padded to its width (auto-wrap is off while the
 * console is up, so even the last cell of the last line cannot scroll the screen).
 */
export class Screen {
  private previous: string[] = [];
  private shown = false;

  constructor(
    private readonly term: Terminal,
    readonly colour: boolean,
  ) {}

  get width(): number {
    return Math.max(1, this.term.columns || 80);
  }

  get height(): number {
    return Math.max(1, this.term.rows || 24);
  }

  /** Alternate screen, cursor hidden, no auto-wrap. */
  enter(): void {
    if (this.shown) return;
    this.shown = true;
    this.previous = [];
    this.term.write("\x1b[?1049h\x1b[?25l\x1b[?7l\x1b[H\x1b[2J");
  }

  /** Back to the normal screen as it was, cursor shown, auto-wrap on. */
  leave(): void {
    if (!this.shown) return;
    this.shown = false;
    this.term.write("\x1b[0m\x1b[?7h\x1b[?25h\x1b[?1049l");
  }

  /** The terminal changed size: the next frame redraws every line. */
  invalidate(): void {
    this.previous = [];
    if (this.shown) this.term.write("\x1b[0m\x1b[H\x1b[2J");
  }

  /** Draws `lines` (the missing ones blank), rewriting only lines that changed. */
  paint(lines: readonly Line[]): void {
    if (!this.shown) return;
    const { width, height } = this;
    let out = "";
    for (let row = 0; row < height; row++) {
      const text = encodeLine(lines[row] ?? { spans: [] }, width, this.colour);
      if (this.previous[row] === text) continue;
      this.previous[row] = text;
      out += `\x1b[${row + 1};1H${text}`;
    }
    this.previous.length = height;
    if (out !== "") this.term.write(out);
  }
}
