// The live console's keyboard: bytes from a terminal in raw mode turned into keys (escape
// sequences for arrows and paging, in both the normal and the application cursor mode), and
// keys into commands. Pure: the console (live-console.ts) owns the terminal and the state.

import { SORT_KEYS, type SortKey } from "./live-rows.js";

/** A printable character as itself, or the name of a special key ("up", "enter", ...). */
export type Key = string;

const SEQUENCES: Record<string, Key> = {
  "[A": "up", "[B": "down", "[C": "right", "[D": "left",
  OA: "up", OB: "down", OC: "right", OD: "left",
  "[H": "home", "[F": "end", OH: "home", OF: "end",
  "[1~": "home", "[7~": "home", "[4~": "end", "[8~": "end",
  "[5~": "pageup", "[6~": "pagedown", "[Z": "backtab", "[3~": "delete",
};

const CONTROLS: Record<string, Key> = {
  "\r": "enter", "\n": "enter", "\t": "tab", "\x7f": "backspace", "\b": "backspace",
  "\x03": "ctrl-c", "\x04": "ctrl-d", "\x0c": "ctrl-l", "\x1a": "ctrl-z",
};

/**
 * Keys in `data`, one read from the terminal. A lone ESC (or ESC ESC) is the Escape key: a
 * terminal sends a whole sequence in one write, so an ESC that ends the read stands alone.
 * Unknown sequences are skipped whole; other control characters are ignored.
 */
export function parseKeys(data: string): Key[] {
  const keys: Key[] = [];
  let i = 0;
  while (i < data.length) {
    const ch = data[i]!;
    if (ch === "\x1b") {
      const next = data[i + 1];
      if (next === "[" || next === "O") {
        // CSI: parameters and intermediates (0x20-0x3f), then one final byte (0x40-0x7e).
        let j = i + 2;
        if (next === "[") while (j < data.length && data.charCodeAt(j) >= 0x20 && data.charCodeAt(j) <= 0x3f) j++;
        const end = Math.min(j + 1, data.length);
        const key = SEQUENCES[data.slice(i + 1, end)];
        if (key) keys.push(key);
        i = end;
        continue;
      }
      keys.push("escape");
      i += next === "\x1b" ? 2 : 1;
      continue;
    }
    const control = CONTROLS[ch];
    if (control) keys.push(control);
    else if (ch >= " ") keys.push(String.fromCodePoint(data.codePointAt(i)!));
    i += ch >= " " ? String.fromCodePoint(data.codePointAt(i)!).length : 1;
  }
  return keys;
}

export type View = "tasks" | "resources" | "lints";

export type Command =
  | { type: "quit" }
  | { type: "move"; by: number }
  | { type: "page"; by: number }
  | { type: "first" }
  | { type: "last" }
  | { type: "open" }
  | { type: "back" }
  | { type: "view"; view: View }
  | { type: "next-view"; by: number }
  | { type: "sort"; key: SortKey }
  | { type: "help" }
  | { type: "redraw" };

const SORT_BY_CHAR = new Map(SORT_KEYS.map((s) => [s.char, s.key]));

export function commandFor(key: Key): Command | undefined {
  switch (key) {
    case "q":
    case "ctrl-c":
      return { type: "quit" };
    case "up":
    case "k":
      return { type: "move", by: -1 };
    case "down":
    case "j":
      return { type: "move", by: 1 };
    case "pageup":
      return { type: "page", by: -1 };
    case "pagedown":
    case " ":
      return { type: "page", by: 1 };
    case "home":
    case "g":
      return { type: "first" };
    case "end":
    case "G":
      return { type: "last" };
    case "enter":
    case "right":
      return { type: "open" };
    case "escape":
    case "backspace":
    case "left":
      return { type: "back" };
    case "tab":
      return { type: "next-view", by: 1 };
    case "backtab":
      return { type: "next-view", by: -1 };
    case "t":
      return { type: "view", view: "tasks" };
    case "r":
      return { type: "view", view: "resources" };
    case "l":
      return { type: "view", view: "lints" };
    case "?":
      return { type: "help" };
    case "ctrl-l":
      return { type: "redraw" };
    default: {
      const sort = SORT_BY_CHAR.get(key);
      return sort ? { type: "sort", key: sort } : undefined;
    }
  }
}
