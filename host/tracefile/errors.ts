/** A trace file that cannot be read: corrupt, not a taskscope file, or inconsistent. */
export class TraceFileError extends Error {
  override readonly name = "TraceFileError";

  constructor(
    /** Byte offset in the file of the item (or chunk) at fault. */
    readonly offset: number,
    /** What is wrong, without the offset. */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${detail} (trace file byte ${offset})`, options);
  }
}
