// trace-pull --wasi --live: the console over a program run in the job's worker. The job posts
// each drain's records (LiveRecords) as it stores them; they go to the live view here, with the
// pull's figures for its status line.

import { StepMeter } from "./progress.js";
import { LiveView } from "./live-view.js";
import { deliverSignal } from "./signals.js";
import { useColour } from "./colour.js";
import { progressText, type LiveRecords } from "./wasi-job.js";

/** The live view of a --wasi pull: the job posts each drain's records here. While the program
 *  runs, q stops it as Ctrl-C does (a complete trace); once it has ended, q closes the console. */
export function wasiLive() {
  const meter = new StepMeter("pulling");
  let figures: LiveRecords["stats"] | undefined;
  let final: string | undefined;
  let quit!: () => void;
  const quitPressed = new Promise<void>((resolve) => (quit = resolve));
  const view = new LiveView(process.stdout, {
    status: () => final ?? (figures ? progressText(meter, figures) : ""),
    input: process.stdin,
    colour: useColour(1),
    // While the job runs its handler takes the signal; once it has ended, nothing does.
    onQuit: () => {
      if (!deliverSignal("SIGINT")) quit();
    },
  });
  return {
    view,
    take(m: LiveRecords): void {
      figures = m.stats;
      view.records(m.bytes, m.anchor);
    },
    /** The program has ended: the figures stay as they are; resolves on q. */
    ended: (): Promise<void> => {
      final = figures ? progressText(meter, figures).replace(/^pulling:/, "pulled:") : "";
      return quitPressed;
    },
  };
}
