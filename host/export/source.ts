// What both exports share about the file they read: its size, for progress.

import { statSync } from "node:fs";

/** Trace file bytes read so far, and the file's size. */
export interface ReadProgress {
  bytesRead: number;
  fileBytes: number;
}

export function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
