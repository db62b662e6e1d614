// Finds where one CBOR data item ends (RFC 8949), without decoding it. The reader needs this to
// cut a CBOR sequence into items, to tell a file that stops mid-item (a killed writer: not an
// error) from bytes that are not CBOR (corruption), and to know where each byte string lies.

/** Returned by scanCborItem when the buffer ends before the item does. */
export const INCOMPLETE = -1;

/** The bytes are not well-formed CBOR; `offset` is relative to the scanned buffer. */
export class CborScanError extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`${reason} at byte ${offset}`);
  }
}

export interface ScanLimits {
  /** Longest string, and most array or map entries, an item may claim (default: no limit). */
  maxBytes?: number;
  /** Whether tags are allowed (default true). */
  tags?: boolean;
}

/** Deeper nesting than any trace file item has is treated as corruption (and bounds the scan). */
const MAX_DEPTH = 64;

// Entries of the open-container stack: a positive count of items still due, or one of these.
const INDEFINITE = -1; // indefinite array or map: items until a break
const INDEFINITE_BYTES = -2; // indefinite byte string: definite byte strings until a break
const INDEFINITE_TEXT = -3; // indefinite text string: definite text strings until a break

const MAJOR_UINT = 0;
const MAJOR_NINT = 1;
const MAJOR_BYTES = 2;
const MAJOR_TEXT = 3;
const MAJOR_ARRAY = 4;
const MAJOR_MAP = 5;
const MAJOR_TAG = 6;
const AI_INDEFINITE = 31;
const BREAK = 0xff;

/**
 * Scans the item starting at `start` and returns the offset just past it, or INCOMPLETE if
 * `bytes` ends first. Throws CborScanError for malformed bytes, and for a string, array or map
 * that claims more than `limits.maxBytes` (no item that large can follow: corruption, not a
 * truncation), and for a tag when `limits.tags` is false.
 * The content start of every definite-length byte string directly inside the item is appended
 * to `byteStrings`.
 */
export function scanCborItem(bytes: Uint8Array, start: number, byteStrings?: number[], limits: ScanLimits = {}): number {
  const maxBytes = limits.maxBytes ?? Number.POSITIVE_INFINITY;
  const end = bytes.length;
  const stack: number[] = [];
  let p = start;
  for (;;) {
    if (p >= end) return INCOMPLETE;
    const head = p;
    const initial = bytes[p++]!;
    const major = initial >> 5;
    const ai = initial & 0x1f;
    const top = stack.length > 0 ? stack[stack.length - 1]! : 0;

    if (initial === BREAK) {
      if (top >= 0) throw new CborScanError(head, "break outside an indefinite-length item");
      stack.pop();
    } else {
      if ((top === INDEFINITE_BYTES && major !== MAJOR_BYTES) || (top === INDEFINITE_TEXT && major !== MAJOR_TEXT) || ((top === INDEFINITE_BYTES || top === INDEFINITE_TEXT) && ai === AI_INDEFINITE)) {
        throw new CborScanError(head, "indefinite-length string chunk of the wrong type");
      }
      // The argument: the value, length or count that follows the initial byte.
      let arg = ai;
      if (ai >= 24 && ai <= 27) {
        const size = 1 << (ai - 24);
        if (p + size > end) return INCOMPLETE;
        arg = 0;
        for (let i = 0; i < size; i++) arg = arg * 256 + bytes[p + i]!;
        p += size;
      } else if (ai >= 28 && ai <= 30) {
        throw new CborScanError(head, `reserved additional information ${ai}`);
      }
      const indefinite = ai === AI_INDEFINITE;
      switch (major) {
        case MAJOR_UINT:
        case MAJOR_NINT:
          if (indefinite) throw new CborScanError(head, "indefinite length on an integer");
          break;
        case MAJOR_BYTES:
        case MAJOR_TEXT:
          if (indefinite) {
            if (stack.length >= MAX_DEPTH) throw new CborScanError(head, "nesting too deep");
            stack.push(major === MAJOR_BYTES ? INDEFINITE_BYTES : INDEFINITE_TEXT);
            continue;
          }
          if (arg > maxBytes) throw new CborScanError(head, `string of ${arg} bytes is longer than any item`);
          if (arg > end - p) return INCOMPLETE;
          if (major === MAJOR_BYTES && byteStrings) byteStrings.push(p);
          p += arg;
          break;
        case MAJOR_ARRAY:
        case MAJOR_MAP: {
          const items = major === MAJOR_MAP ? arg * 2 : arg;
          if (items > maxBytes) throw new CborScanError(head, `${major === MAJOR_MAP ? "map" : "array"} of ${arg} entries is larger than any item`);
          if (indefinite || items > 0) {
            if (stack.length >= MAX_DEPTH) throw new CborScanError(head, "nesting too deep");
            stack.push(indefinite ? INDEFINITE : items);
            continue;
          }
          break;
        }
        case MAJOR_TAG:
          if (indefinite) throw new CborScanError(head, "indefinite length on a tag");
          if (limits.tags === false) throw new CborScanError(head, `tag ${arg} (this format uses no tags)`);
          if (stack.length >= MAX_DEPTH) throw new CborScanError(head, "nesting too deep");
          stack.push(1); // the tagged item
          continue;
        default: // major 7: simple values and floats
          if (indefinite) throw new CborScanError(head, "break outside an indefinite-length item");
          if (ai === 24 && arg < 32) throw new CborScanError(head, `simple value ${arg} in two bytes`);
      }
    }

    // One item (or a whole container) finished: count it against the open containers.
    while (stack.length > 0) {
      const remaining = stack[stack.length - 1]!;
      if (remaining < 0) break; // indefinite: wait for more items or a break
      if (remaining > 1) {
        stack[stack.length - 1] = remaining - 1;
        break;
      }
      stack.pop(); // its last item: the container is itself a finished item
    }
    if (stack.length === 0) return p;
  }
}
