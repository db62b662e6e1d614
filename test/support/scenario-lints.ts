// What trace-report must say about each demo scenario (firmware-examples/demo/scenarios): the
// first lint's kind and the details it must name. Shared by the WASI runs (test/scenario.test.ts)
// and the Cortex-M runs in QEMU (test/mcu.test.ts): the same sources must give the same lints.

import { expect } from "vitest";
import type { Lint } from "../../host/model/lint.js";

export type ScenarioName = "clean" | "lost-wakeup" | "deadlock" | "cpu-hog" | "slow-requests" | "leak";

export interface ScenarioLint {
  /** The first lint's kind; null for the clean demo, which must give none. */
  kind: Lint["kind"] | null;
  check(lint: Lint): void;
}

export const SCENARIO_LINTS: Record<ScenarioName, ScenarioLint> = {
  clean: { kind: null, check: () => {} },
  "lost-wakeup": {
    kind: "lost-wakeup",
    check(l) {
      expect(l.severity).toBe("error");
      expect(l.tasks[0]!.name).toBe("uart-reader");
      expect(l.site).toBe("uart-reader: read frame");
      expect(l.resource).toBe("uart0 rx");
      expect(l.evidence.reason).toBe("Pending without a stored waker");
    },
  },
  deadlock: {
    kind: "deadlock",
    check(l) {
      const sites: Record<string, string> = { telemetry: "telemetry: send sample", compressor: "compressor: send ack" };
      const resources: Record<string, string> = { telemetry: "samples", compressor: "acks" };
      expect(l.severity).toBe("error");
      expect(l.tasks.map((t) => t.name).sort()).toEqual(["compressor", "telemetry"]);
      const first = l.tasks[0]!.name;
      expect(l.site).toBe(sites[first]);
      expect(l.resource).toBe(resources[first]);
    },
  },
  "cpu-hog": {
    kind: "long-poll",
    check(l) {
      expect(l.tasks[0]!.name).toBe("decoder");
      expect(l.site).toBe("decoder: recv frame");
      expect(l.evidence.longPolls).toBeGreaterThanOrEqual(8);
      expect(l.evidence.delayedTasks).toBeGreaterThanOrEqual(10);
      expect(l.tasks.slice(1).every((t) => t.name === "fetch")).toBe(true);
    },
  },
  "slow-requests": {
    kind: "slow-requests",
    check(l) {
      expect(l.tasks[0]!.name).toBe("backup");
      expect(l.site).toBe("handler: lock db");
      expect(l.resource).toBe("db");
      expect(l.evidence.clustered).toBe("yes");
      expect(l.evidence.kind).toBe("GET /orders");
    },
  },
  leak: {
    kind: "leak",
    check(l) {
      expect(l.severity).toBe("warning");
      expect(l.tasks[0]!.name).toBe("audit");
      expect(l.site).toBe("audit: wait ack");
      expect(l.resource).toBe("audit-acks");
      expect(l.evidence.count).toBe(4);
      expect(l.evidence.parentEnded).toBe("yes");
    },
  },
};
