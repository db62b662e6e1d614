// LEB128 writers on raw memory. Each returns the address after the last byte written.

// @ts-ignore: decorator
@inline export function putU32(p: usize, v: u32): usize {
  while (v >= 0x80) {
    store<u8>(p++, <u8>(v | 0x80));
    v >>= 7;
  }
  store<u8>(p, <u8>v);
  return p + 1;
}

// @ts-ignore: decorator
@inline export function putU64(p: usize, v: u64): usize {
  while (v >= 0x80) {
    store<u8>(p++, <u8>(v | 0x80));
    v >>= 7;
  }
  store<u8>(p, <u8>v);
  return p + 1;
}

// @ts-ignore: decorator
@inline export function putZigzag(p: usize, v: i64): usize {
  return putU64(p, <u64>((v << 1) ^ (v >> 63)));
}
