/**
 * Malformed wire data. `offset` is absolute (the caller's stream or file offset, passed down as
 * `baseOffset`), so a message points at the byte a person can look at with a hex dump.
 */
export class DecodeError extends Error {
  override readonly name = "DecodeError";

  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`${reason} at byte ${offset}`);
  }
}

/** Formats a byte value the way error reasons quote them: 0x3f. */
export function hexByte(value: number): string {
  return `0x${value.toString(16).padStart(2, "0")}`;
}
