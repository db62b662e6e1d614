// The names table: an append-only static region, separate from the ring so overwriting never
// touches it. Entry = kind u8, length u8, UTF-8 bytes; id = position + 1. Interning compares
// against existing entries (start-up cost only); hot paths carry the returned small ids.

import { NAMES_BYTES } from "./config";

const NAMES: usize = memory.data(NAMES_BYTES, 4);
const NAMES_END: usize = NAMES + <usize>NAMES_BYTES;
const MAX_NAME_BYTES: i32 = 255;
const SCRATCH: usize = memory.data(MAX_NAME_BYTES + 1); // one name being interned

let end: usize = NAMES; // first free byte
let count: u32 = 0;
let sentCount: u32 = 0; // entries already handed to the host
let sentEnd: usize = NAMES; // address of the first entry not yet handed to the host
export let namesDropped: u32 = 0;

export function resetNames(): void {
  // Names survive a re-init: ids handed out at start-up stay valid. Only the drain cursor
  // rewinds, so a new session sends the whole table again.
  sentCount = 0;
  sentEnd = NAMES;
}

/** Encodes `s` (UTF-16) as UTF-8 at `dst`, writing at most `limit` bytes and never splitting a
 *  character. Returns the byte length written. Allocates nothing. */
export function utf8Encode(s: string, dst: usize, limit: i32): i32 {
  const src = changetype<usize>(s);
  const units = s.length;
  let n: i32 = 0;
  for (let i = 0; i < units; i++) {
    let c = <u32>load<u16>(src + (<usize>i << 1));
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < units) {
      const lo = <u32>load<u16>(src + (<usize>(i + 1) << 1));
      if (lo >= 0xdc00 && lo < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c < 0xe000) c = 0xfffd; // lone surrogate
    if (c < 0x80) {
      if (n + 1 > limit) break;
      store<u8>(dst + n, <u8>c);
      n += 1;
    } else if (c < 0x800) {
      if (n + 2 > limit) break;
      store<u8>(dst + n, <u8>(0xc0 | (c >> 6)));
      store<u8>(dst + n + 1, <u8>(0x80 | (c & 0x3f)));
      n += 2;
    } else if (c < 0x10000) {
      if (n + 3 > limit) break;
      store<u8>(dst + n, <u8>(0xe0 | (c >> 12)));
      store<u8>(dst + n + 1, <u8>(0x80 | ((c >> 6) & 0x3f)));
      store<u8>(dst + n + 2, <u8>(0x80 | (c & 0x3f)));
      n += 3;
    } else {
      if (n + 4 > limit) break;
      store<u8>(dst + n, <u8>(0xf0 | (c >> 18)));
      store<u8>(dst + n + 1, <u8>(0x80 | ((c >> 12) & 0x3f)));
      store<u8>(dst + n + 2, <u8>(0x80 | ((c >> 6) & 0x3f)));
      store<u8>(dst + n + 3, <u8>(0x80 | (c & 0x3f)));
      n += 4;
    }
  }
  return n;
}

function sameBytes(a: usize, b: usize, len: i32): bool {
  for (let i = 0; i < len; i++) {
    if (load<u8>(a + i) != load<u8>(b + i)) return false;
  }
  return true;
}

/** Returns the id of (kind, text), adding it if new; 0 if the table is full (counted).
 *  Texts longer than 255 UTF-8 bytes are cut at a character boundary. */
export function intern(kind: u8, text: string): u32 {
  return internScratch(kind, utf8Encode(text, SCRATCH, MAX_NAME_BYTES));
}

/** Where a caller outside AssemblyScript (the C API) puts UTF-8 text to intern: 256 bytes. */
export function nameScratch(): usize {
  return SCRATCH;
}

/** Interns the `n` bytes a foreign caller put in the scratch area (see nameScratch): cut to
 *  255 bytes at a character boundary (the byte after the cut, if copied, says where one ends),
 *  with every byte of an invalid UTF-8 sequence replaced by '?' (a host rejects invalid UTF-8). */
export function internBytes(kind: u8, n: u32): u32 {
  return internScratch(kind, validUtf8(SCRATCH, n > <u32>MAX_NAME_BYTES ? MAX_NAME_BYTES + 1 : <i32>n, MAX_NAME_BYTES));
}

/** Makes [p, p + n) valid UTF-8 in place and returns its length, at most `limit` and not
 *  splitting a character (bytes past `limit` are only looked at). */
export function validUtf8(p: usize, n: i32, limit: i32): i32 {
  let i: i32 = 0;
  while (i < n) {
    if (i >= limit) return limit;
    const b = <u32>load<u8>(p + <usize>i);
    const len: i32 = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    if (len > 0 && i + len > limit) return i; // the cut falls inside this character: end before it
    let ok = len > 0 && i + len <= n;
    for (let k = 1; ok && k < len; k++) ok = (load<u8>(p + <usize>(i + k)) & 0xc0) == 0x80;
    if (ok && len >= 3) {
      // No overlong forms, surrogates or code points past U+10FFFF (a strict decoder refuses them).
      const c = <u32>load<u8>(p + <usize>(i + 1));
      ok = b == 0xe0 ? c >= 0xa0 : b == 0xed ? c < 0xa0 : b == 0xf0 ? c >= 0x90 : b == 0xf4 ? c < 0x90 : true;
    }
    if (!ok) {
      store<u8>(p + <usize>i, 0x3f); // '?'
      i++;
      continue;
    }
    i += len;
  }
  return i;
}

function internScratch(kind: u8, len: i32): u32 {
  let p = NAMES;
  for (let id: u32 = 1; id <= count; id++) {
    const l = <i32>load<u8>(p + 1);
    if (load<u8>(p) == kind && l == len && sameBytes(p + 2, SCRATCH, len)) return id;
    p += 2 + <usize>l;
  }
  if (end + 2 + <usize>len > NAMES_END) {
    namesDropped++;
    return 0;
  }
  store<u8>(end, kind);
  store<u8>(end + 1, <u8>len);
  memory.copy(end + 2, SCRATCH, <usize>len);
  end += 2 + <usize>len;
  count++;
  return count;
}

// --- reading side (drain) ---

export function unsentNames(): u32 {
  return count - sentCount;
}

export function firstUnsentId(): u32 {
  return sentCount + 1;
}

export function firstUnsentAddr(): usize {
  return sentEnd;
}

/** Bytes of the entry at `p` (kind + length + text). */
// @ts-ignore: decorator
@inline export function entryBytes(p: usize): i32 {
  return 2 + <i32>load<u8>(p + 1);
}

export function markNamesSent(n: u32, bytes: i32): void {
  sentCount += n;
  sentEnd += <usize>bytes;
}

export function namesCount(): u32 {
  return count;
}

/** Address of the entry with `id` (1..count), or of the table's end for id count + 1. Walks the
 *  table: for resends, not for hot paths. */
export function entryAddr(id: u32): usize {
  let p = NAMES;
  for (let i: u32 = 1; i < id && i <= count; i++) p += <usize>entryBytes(p);
  return p;
}

/** Marks every name up to `id` as handed to the host (a resend may reach past the cursor). */
export function markSentThrough(id: u32): void {
  if (id <= sentCount) return;
  if (id > count) id = count;
  sentEnd = entryAddr(id + 1);
  sentCount = id;
}
