// The core as a C library: the entry file that `npm run build:mcu` compiles to wasm, turns into C
// with wasm2c and links behind taskscope.h (taskscope.c). Every export is a flat function of
// integers, so the C glue calls it without knowing about wasm; strings come in as UTF-8 bytes
// that the glue copies into the name scratch area first.
//
// Sizes are the core's compile-time constants (core/config.ts), set per build with
// `asc --use TASKSCOPE_CHUNK_COUNT=...` (build:mcu's configurations).

import * as ts from "../index";
import * as W from "../wire";
import { internBytes, nameScratch } from "../names";
import { setIdentity, start } from "../session";
import { drainHidden, drainPending, transferBuffer, MIN_DRAIN_BYTES } from "../drain";
import { TRANSFER_BYTES } from "../config";
import { hiddenTicks } from "../clock";

// The serial link's host interface (rx buffer, receive, service): taskscope_link_*.
export * from "../link-host";

/** End of the core's static memory: the glue checks its linear memory holds it. */
export function static_end(): usize {
  return __heap_base;
}

export function format(): u32 {
  return W.FORMAT_VERSION;
}

// ---- start-up and names ----

/** The 256-byte area the glue copies UTF-8 text into before set_identity or intern. */
export function name_scratch(): usize {
  return nameScratch();
}

/** `which` 0: device name, 1: firmware name, from `n` bytes in the name scratch area. */
export function set_identity(which: u32, n: u32): void {
  setIdentity(which, nameScratch(), n);
}

export function init(mode: u32, tickHz: u32, session: u32): void {
  start(<u8>mode, tickHz, session);
}

/** Interns `n` bytes from the name scratch area as a name of `kind` (wire.ts NAME_*). */
export function intern(kind: u32, n: u32): u32 {
  return internBytes(<u8>kind, n);
}

// ---- the vocabulary (core/events.ts) ----

export function task_spawn(task: u32, parent: u32, name: u32): void { ts.taskSpawn(task, parent, name); }
export function poll_begin(task: u32): void { ts.pollBegin(task); }
export function poll_end(ready: u32): void { ts.pollEnd(ready != 0); }
export function task_end(task: u32, cancelled: u32): void { ts.taskEnd(task, cancelled != 0); }
export function wake(target: u32): void { ts.wake(target); }
export function wake_by_task(target: u32, by: u32): void { ts.wakeByTask(target, by); }
export function wake_by_irq(target: u32, irq: u32): void { ts.wakeByIrq(target, irq); }
export function wake_external(target: u32): void { ts.wakeExternal(target); }
export function wake_and_drop(target: u32): void { ts.wakeAndDrop(target); }
export function wake_by_task_and_drop(target: u32, by: u32): void { ts.wakeByTaskAndDrop(target, by); }
export function waker_clone(task: u32): void { ts.wakerClone(task); }
export function waker_drop(task: u32): void { ts.wakerDrop(task); }
export function await_at(site: u32, resource: u32): void { ts.awaitAt(site, resource); }
export function resource_create(kind: u32, name: u32, capacity: u32): u32 { return ts.resourceCreate(<u8>kind, name, capacity); }
export function resource_op(res: u32, op: u32, outcome: u32, level: u32): void { ts.resourceOp(res, <u8>op, <u8>outcome, level); }
export function resource_drop(res: u32): void { ts.resourceDrop(res); }
export function flow_begin(name: u32): u32 { return ts.flowBegin(name); }
export function flow_end(flow: u32): void { ts.flowEnd(flow); }
export function flow_enter(flow: u32): void { ts.flowEnter(flow); }
export function flow_enter_task(task: u32, flow: u32): void { ts.flowEnterTask(task, flow); }
export function current_flow(): u32 { return ts.currentFlow(); }
export function log0(format: u32, level: u32): void { ts.log0(format, <u8>level); }
export function log1(format: u32, level: u32, a: i64): void { ts.log1(format, <u8>level, a); }
export function log2(format: u32, level: u32, a: i64, b: i64): void { ts.log2(format, <u8>level, a, b); }
export function log3(format: u32, level: u32, a: i64, b: i64, c: i64): void { ts.log3(format, <u8>level, a, b, c); }
export function log4(format: u32, level: u32, a: i64, b: i64, c: i64, d: i64): void { ts.log4(format, <u8>level, a, b, c, d); }
export function mark(name: u32): void { ts.mark(name); }
export function counter(name: u32, value: i64): void { ts.counter(name, value); }
export function mem_sample(task: u32, bytes: u32): void { ts.memSample(task, bytes); }
export function idle_begin(): void { ts.idleBegin(); }
export function idle_end(): void { ts.idleEnd(); }
export function isr_enter(irq: u32): void { ts.isrEnter(irq); }
export function isr_exit(irq: u32): void { ts.isrExit(irq); }
export function timer_arm(res: u32, deadline: u64): void { ts.timerArm(res, deadline); }
export function timer_fire(task: u32, res: u32): void { ts.timerFire(task, res); }
export function timer_fire_wake(task: u32, res: u32): void { ts.timerFireWake(task, res); }

// ---- clock, filter, drain ----

export function now(): u64 { return ts.now(); }
export function tick_hz(): u32 { return ts.tickHz(); }
export function set_filter(mask: u32): void { ts.setFilter(mask); }
export function filter(): u32 { return ts.filter; }
export function flush(): void { ts.flush(); }
export function events_recorded(): u64 { return ts.eventsRecorded(); }
export function hidden_ticks(): u64 { return hiddenTicks; }
export function transfer_buffer(): usize { return transferBuffer(); }
export function transfer_bytes(): u32 { return <u32>TRANSFER_BYTES; }
export function min_drain_bytes(): u32 { return <u32>MIN_DRAIN_BYTES; }
/** Drains into the transfer buffer (at most `cap` bytes of it), its time hidden from device time. */
export function drain(cap: u32): u32 {
  return <u32>drainHidden(transferBuffer(), <i32>(cap < <u32>TRANSFER_BYTES ? cap : <u32>TRANSFER_BYTES));
}
export function pending(): u32 { return drainPending() ? 1 : 0; }
