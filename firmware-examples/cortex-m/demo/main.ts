// The demo (firmware-examples/demo: the executor, the application, its scenarios) on a
// Cortex-M3 board (QEMU's mps2-an385), from the same AssemblyScript sources: compiled with the
// device target, turned into C by wasm2c and linked with the board support by `npm run build:mcu`
// (build.mjs here). main.c starts the board and calls main() below.
//
// The host pulls over UART0 with `trace-pull --port`: the core's serial link (core/link.ts) is
// serviced whenever the executor idles (firmware-examples/executor/platform.ts calls board.idle,
// which services the link and sleeps until the next timer deadline or a received byte). The
// scenario comes from the board (a word QEMU places in memory for the tests; 0 = clean), and each
// boot is its own session (the board's boot counter, kept across resets).

import * as ts from "../../../core/index";
import { runScenario } from "../../demo/scenarios/index";

// The link's host interface for main.c: rx buffer, receive (from the UART interrupt), service.
export * from "../../../core/link-host";

// @ts-ignore: decorator
@external("board", "scenario")
declare function boardScenario(): u32;
// @ts-ignore: decorator
@external("board", "boot_count")
declare function boardBootCount(): u32;
// @ts-ignore: decorator
@external("board", "done")
declare function boardDone(code: i32, recorded: u64): void;
// @ts-ignore: decorator
@external("board", "idle")
declare function boardIdle(ticks: u64): void;

/** TIMER0 runs at the board's 25 MHz system clock. */
const TICK_HZ: u32 = 25_000_000;
const SCENARIOS: StaticArray<string> = ["clean", "lost-wakeup", "deadlock", "cpu-hog", "slow-requests", "leak"];

export function main(): void {
  const which = boardScenario();
  const scenario = SCENARIOS[which < <u32>SCENARIOS.length ? <i32>which : 0];
  // A session id per boot: the clock reads the same at every boot under an emulator's
  // instruction-counted time, the boot counter does not.
  ts.init(ts.MODE_OVERWRITE, TICK_HZ, "mps2-an385", "taskscope-demo 0.1 (cortex-m3)", 0x7a5c0000 + boardBootCount());
  const code = runScenario(scenario);
  boardDone(code, ts.eventsRecorded());
  // The scenario is over (its stuck tasks stay stuck): keep answering the host.
  while (true) boardIdle(u64.MAX_VALUE);
}

/** The board's interrupt handlers, bracketed (interrupts are taken only while idle, so never
 *  inside another recording call). */
export function isr_enter(irq: u32): void {
  ts.isrEnter(irq);
}

export function isr_exit(irq: u32): void {
  ts.isrExit(irq);
}

/** End of static memory: main.c checks its linear memory holds it. */
export function static_end(): usize {
  return __heap_base;
}
