// Consistent Overhead Byte Stuffing: a frame's bytes are rewritten without any 0x00, so 0x00 can
// delimit frames. At most one byte is added per 254 (0.4 %). Encoding here is whole-frame (the
// host sends small commands); decoding is incremental (cobs-decoder in frame-decoder.ts).

/** COBS-encodes `data` between two 0x00 delimiters (see docs/FORMAT.md section 7.1). */
export function cobsEncodeFrame(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + Math.ceil((data.length + 1) / 254) + 2);
  let o = 0;
  out[o++] = 0;
  let codeAt = o++;
  let code = 1;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (b === 0) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
      continue;
    }
    out[o++] = b;
    if (++code === 0xff) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
    }
  }
  out[codeAt] = code;
  out[o++] = 0;
  return out.subarray(0, o);
}

/**
 * Decodes one COBS block sequence (the bytes between two delimiters, without them). Returns
 * undefined if the bytes are not valid COBS (a code byte promising more bytes than there are).
 */
export function cobsDecode(encoded: Uint8Array): Uint8Array | undefined {
  const out = new Uint8Array(encoded.length);
  let o = 0;
  let i = 0;
  while (i < encoded.length) {
    const code = encoded[i++]!;
    if (code === 0 || i + code - 1 > encoded.length) return undefined;
    for (let k = 1; k < code; k++) out[o++] = encoded[i++]!;
    if (code !== 0xff && i < encoded.length) out[o++] = 0;
  }
  return out.subarray(0, o);
}
