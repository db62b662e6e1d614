// What a fuzz target is: a decoder (or a whole path through the host) that takes one byte input.
// It returns how the input was handled; an exception escaping `run` is a crash.

import { join } from "node:path";
import type { Seed } from "./mutate.js";
export type { Seed };

/** A file of this process's own in `dir`, for a target that writes one per input. */
export function scratchFile(dir: string, name: string): string {
  return join(dir, `${name}-${process.pid}-${Math.random().toString(36).slice(2)}.trace.cbor`);
}

export interface Outcome {
  /** A typed error the input was rejected with (its message). */
  error: string | undefined;
  /** That error named no byte offset. */
  noOffset?: boolean;
  /** The input was misread (damage taken for a clean stop, a damaged frame accepted, ...). */
  misread?: string;
  /** A pull that did not finish in bounded (virtual) time. */
  hang?: string;
}

export interface FuzzTarget {
  readonly name: string;
  readonly seeds: Seed[];
  /** `seed` and `inPlace`: what the input was made from, for oracles that compare. */
  run(input: Uint8Array, seed?: Seed, inPlace?: boolean): Outcome | Promise<Outcome>;
}
