// Bounds both Perfetto forms keep: names of readable length, and a bounded number of wake arrows
// waiting for a task that is woken again and again before it runs.

/** A task woken many times before it runs again gets the first arrows; the rest are counted. */
export const MAX_PENDING_ARROWS = 64;

const MAX_NAME = 200;

/** A name cut to MAX_NAME characters. */
export function clip(text: string): string {
  return text.length > MAX_NAME ? `${text.slice(0, MAX_NAME - 1)}…` : text;
}
