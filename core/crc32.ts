// CRC-32 (IEEE 802.3: reflected polynomial 0xEDB88320, initial value and final xor 0xFFFFFFFF),
// the checksum of every link frame. A 16-entry table (64 bytes) instead of the usual 256 entries
// (1 KiB): two lookups per byte are plenty for a UART, and RAM is what small devices lack.

const TABLE: usize = memory.data<u32>([
  0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
  0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
]);

export const CRC_INIT: u32 = 0xffffffff;

/** Feeds one byte into a running CRC (start from CRC_INIT, finish with crcFinal). */
// @ts-ignore: decorator
@inline export function crcByte(crc: u32, b: u8): u32 {
  crc = (crc >>> 4) ^ load<u32>(TABLE + (<usize>((crc ^ <u32>b) & 15) << 2));
  return (crc >>> 4) ^ load<u32>(TABLE + (<usize>((crc ^ (<u32>b >> 4)) & 15) << 2));
}

// @ts-ignore: decorator
@inline export function crcFinal(crc: u32): u32 {
  return crc ^ 0xffffffff;
}

/** CRC-32 of [p, p + n). */
export function crc32(p: usize, n: i32): u32 {
  let crc = CRC_INIT;
  for (let i = 0; i < n; i++) crc = crcByte(crc, load<u8>(p + <usize>i));
  return crcFinal(crc);
}
