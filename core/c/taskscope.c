/* taskscope.h over the generated core. One translation unit: the wasm2c output of core/c/core.ts
 * (tscore.c, from npm run build:mcu) is included here, so the compiler inlines its exports into
 * these functions and each call costs what the recording itself costs.
 *
 * The port: a header `taskscope_port.h` on the include path (as FreeRTOSConfig.h is) defines
 *   TASKSCOPE_PORT_CLOCK()             a free-running 32-bit counter at the tick rate given to
 *                                      taskscope_init (required; inline it: it is read per event)
 *   TASKSCOPE_PORT_LINK_WRITE(p, n)    sends n bytes to the host, waiting as needed (for the link)
 *   TASKSCOPE_PORT_LOCK() / TASKSCOPE_PORT_UNLOCK(state)
 *                                      a critical section around every call (optional: without it
 *                                      the firmware must not record from interrupts)
 * and the firmware defines `void taskscope_port_trap(const char* message)` (no return): the
 * core's runtime calls it on a trap, which a correct build never takes. */

#include <string.h>
#include "taskscope.h"
#include "taskscope_port.h"
#include "tscore.c" /* (its directory also holds taskscope-lm.h, the linear memory's size) */

#ifndef TASKSCOPE_PORT_CLOCK
#error "taskscope_port.h must define TASKSCOPE_PORT_CLOCK()"
#endif
#ifndef TASKSCOPE_PORT_LOCK
#define TASKSCOPE_PORT_LOCK() 0u
#define TASKSCOPE_PORT_UNLOCK(state) ((void)(state))
#endif

static Z_tscore_instance_t core;
static int instantiated;

#define LOCKED(stmt)                             \
  do {                                           \
    uint32_t ts_lock_ = TASKSCOPE_PORT_LOCK();   \
    stmt;                                        \
    TASKSCOPE_PORT_UNLOCK(ts_lock_);             \
  } while (0)

/* ---- the core's imports ---- */

u32 Z_taskscopeZ_clock(struct Z_taskscope_instance_t* unused) {
  (void)unused;
  return TASKSCOPE_PORT_CLOCK();
}

void Z_taskscopeZ_link_write(struct Z_taskscope_instance_t* unused, u32 ptr, u32 len) {
  (void)unused;
#ifdef TASKSCOPE_PORT_LINK_WRITE
  TASKSCOPE_PORT_LINK_WRITE(taskscope_lm_bytes(ptr, len), len);
#else
  (void)ptr;
  (void)len;
  taskscope_port_trap("taskscope: the link is used but taskscope_port.h defines no TASKSCOPE_PORT_LINK_WRITE");
#endif
}

/* ---- start-up and names ---- */

/** Copies a C string into the core's name scratch area (256 bytes); returns its full length (the
 *  core cuts it at a character boundary). */
static uint32_t to_scratch(const char* text) {
  uint32_t n = text ? (uint32_t)strlen(text) : 0;
  uint32_t copy = n < 256u ? n : 256u;
  memcpy(taskscope_lm_bytes(Z_tscoreZ_name_scratch(&core), copy), text, copy);
  return n;
}

void taskscope_init(taskscope_mode_t mode, uint32_t tick_hz, const char* device, const char* firmware, uint32_t session) {
  uint32_t lock = TASKSCOPE_PORT_LOCK();
  if (!instantiated) {
    wasm_rt_init();
    Z_tscore_init_module();
    Z_tscore_instantiate(&core, 0);
    if (Z_tscoreZ_static_end(&core) > TASKSCOPE_LM_BYTES) taskscope_port_trap("taskscope: the core's static memory exceeds TASKSCOPE_LM_BYTES");
    instantiated = 1;
  }
  Z_tscoreZ_set_identity(&core, 0, to_scratch(device));
  Z_tscoreZ_set_identity(&core, 1, to_scratch(firmware));
  Z_tscoreZ_init(&core, (u32)mode, tick_hz, session);
  TASKSCOPE_PORT_UNLOCK(lock);
}

static uint32_t name(uint32_t kind, const char* text) {
  uint32_t id;
  LOCKED(id = Z_tscoreZ_intern(&core, kind, to_scratch(text)));
  return id;
}

uint32_t taskscope_task_name(const char* text) { return name(1, text); }
uint32_t taskscope_site_name(const char* text) { return name(2, text); }
uint32_t taskscope_resource_name(const char* text) { return name(3, text); }
uint32_t taskscope_log_format(const char* text) { return name(4, text); }
uint32_t taskscope_mark_name(const char* text) { return name(5, text); }
uint32_t taskscope_counter_name(const char* text) { return name(6, text); }
uint32_t taskscope_flow_name(const char* text) { return name(7, text); }

/* ---- the vocabulary ---- */

void taskscope_task_spawn(uint32_t task, uint32_t parent, uint32_t n) { LOCKED(Z_tscoreZ_task_spawn(&core, task, parent, n)); }
void taskscope_poll_begin(uint32_t task) { LOCKED(Z_tscoreZ_poll_begin(&core, task)); }
void taskscope_poll_end(int ready) { LOCKED(Z_tscoreZ_poll_end(&core, ready != 0)); }
void taskscope_task_end(uint32_t task, int cancelled) { LOCKED(Z_tscoreZ_task_end(&core, task, cancelled != 0)); }
void taskscope_wake(uint32_t target) { LOCKED(Z_tscoreZ_wake(&core, target)); }
void taskscope_wake_by_task(uint32_t target, uint32_t by) { LOCKED(Z_tscoreZ_wake_by_task(&core, target, by)); }
void taskscope_wake_by_irq(uint32_t target, uint32_t irq) { LOCKED(Z_tscoreZ_wake_by_irq(&core, target, irq)); }
void taskscope_wake_external(uint32_t target) { LOCKED(Z_tscoreZ_wake_external(&core, target)); }
void taskscope_wake_and_drop(uint32_t target) { LOCKED(Z_tscoreZ_wake_and_drop(&core, target)); }
void taskscope_wake_by_task_and_drop(uint32_t target, uint32_t by) { LOCKED(Z_tscoreZ_wake_by_task_and_drop(&core, target, by)); }
void taskscope_waker_clone(uint32_t task) { LOCKED(Z_tscoreZ_waker_clone(&core, task)); }
void taskscope_waker_drop(uint32_t task) { LOCKED(Z_tscoreZ_waker_drop(&core, task)); }
void taskscope_await(uint32_t site, uint32_t resource) { LOCKED(Z_tscoreZ_await_at(&core, site, resource)); }
uint32_t taskscope_resource_create(uint32_t kind, uint32_t n, uint32_t capacity) {
  uint32_t res;
  LOCKED(res = Z_tscoreZ_resource_create(&core, kind, n, capacity));
  return res;
}
void taskscope_resource_op(uint32_t res, uint32_t op, uint32_t outcome, uint32_t level) { LOCKED(Z_tscoreZ_resource_op(&core, res, op, outcome, level)); }
void taskscope_resource_drop(uint32_t res) { LOCKED(Z_tscoreZ_resource_drop(&core, res)); }
void taskscope_timer_arm(uint32_t res, uint64_t deadline) { LOCKED(Z_tscoreZ_timer_arm(&core, res, deadline)); }
void taskscope_timer_fire(uint32_t task, uint32_t res) { LOCKED(Z_tscoreZ_timer_fire(&core, task, res)); }
void taskscope_timer_fire_wake(uint32_t task, uint32_t res) { LOCKED(Z_tscoreZ_timer_fire_wake(&core, task, res)); }
uint32_t taskscope_flow_begin(uint32_t n) {
  uint32_t flow;
  LOCKED(flow = Z_tscoreZ_flow_begin(&core, n));
  return flow;
}
void taskscope_flow_end(uint32_t flow) { LOCKED(Z_tscoreZ_flow_end(&core, flow)); }
void taskscope_flow_enter(uint32_t flow) { LOCKED(Z_tscoreZ_flow_enter(&core, flow)); }
void taskscope_flow_enter_task(uint32_t task, uint32_t flow) { LOCKED(Z_tscoreZ_flow_enter_task(&core, task, flow)); }
uint32_t taskscope_current_flow(void) {
  uint32_t flow;
  LOCKED(flow = Z_tscoreZ_current_flow(&core));
  return flow;
}
void taskscope_log0(uint32_t f, uint32_t level) { LOCKED(Z_tscoreZ_log0(&core, f, level)); }
void taskscope_log1(uint32_t f, uint32_t level, int64_t a) { LOCKED(Z_tscoreZ_log1(&core, f, level, (u64)a)); }
void taskscope_log2(uint32_t f, uint32_t level, int64_t a, int64_t b) { LOCKED(Z_tscoreZ_log2(&core, f, level, (u64)a, (u64)b)); }
void taskscope_log3(uint32_t f, uint32_t level, int64_t a, int64_t b, int64_t c) { LOCKED(Z_tscoreZ_log3(&core, f, level, (u64)a, (u64)b, (u64)c)); }
void taskscope_log4(uint32_t f, uint32_t level, int64_t a, int64_t b, int64_t c, int64_t d) {
  LOCKED(Z_tscoreZ_log4(&core, f, level, (u64)a, (u64)b, (u64)c, (u64)d));
}
void taskscope_mark(uint32_t n) { LOCKED(Z_tscoreZ_mark(&core, n)); }
void taskscope_counter(uint32_t n, int64_t value) { LOCKED(Z_tscoreZ_counter(&core, n, (u64)value)); }
void taskscope_mem_sample(uint32_t task, uint32_t bytes) { LOCKED(Z_tscoreZ_mem_sample(&core, task, bytes)); }
void taskscope_idle_begin(void) { LOCKED(Z_tscoreZ_idle_begin(&core)); }
void taskscope_idle_end(void) { LOCKED(Z_tscoreZ_idle_end(&core)); }
void taskscope_isr_enter(uint32_t irq) { LOCKED(Z_tscoreZ_isr_enter(&core, irq)); }
void taskscope_isr_exit(uint32_t irq) { LOCKED(Z_tscoreZ_isr_exit(&core, irq)); }

/* ---- clock and filter ---- */

uint64_t taskscope_now(void) {
  uint64_t t;
  LOCKED(t = Z_tscoreZ_now(&core));
  return t;
}
uint32_t taskscope_tick_hz(void) { return Z_tscoreZ_tick_hz(&core); }
void taskscope_set_filter(uint32_t mask) { LOCKED(Z_tscoreZ_set_filter(&core, mask)); }
uint32_t taskscope_filter(void) { return Z_tscoreZ_filter(&core); }
uint64_t taskscope_events_recorded(void) {
  uint64_t n;
  LOCKED(n = Z_tscoreZ_events_recorded(&core));
  return n;
}
uint64_t taskscope_hidden_ticks(void) {
  uint64_t n;
  LOCKED(n = Z_tscoreZ_hidden_ticks(&core));
  return n;
}

/* ---- link ---- */

void taskscope_link_receive(const uint8_t* bytes, uint32_t n) {
  if (!instantiated) return; /* before taskscope_init: nobody to answer (the host asks again) */
  uint32_t lock = TASKSCOPE_PORT_LOCK();
  TASKSCOPE_LINK_FEED(tscore, &core, bytes, n);
  TASKSCOPE_PORT_UNLOCK(lock);
}

int taskscope_link_service(void) {
  int more;
  LOCKED(more = Z_tscoreZ_taskscope_link_service(&core) != 0);
  return more;
}

/* ---- drain ---- */

void taskscope_flush(void) { LOCKED(Z_tscoreZ_flush(&core)); }

uint32_t taskscope_min_drain_bytes(void) { return Z_tscoreZ_min_drain_bytes(&core); }

uint32_t taskscope_drain(uint8_t* dst, uint32_t cap) {
  uint32_t n;
  uint32_t lock = TASKSCOPE_PORT_LOCK();
  n = Z_tscoreZ_drain(&core, cap);
  memcpy(dst, taskscope_lm_bytes(Z_tscoreZ_transfer_buffer(&core), n), n);
  TASKSCOPE_PORT_UNLOCK(lock);
  return n;
}

int taskscope_pending(void) {
  int more;
  LOCKED(more = Z_tscoreZ_pending(&core) != 0);
  return more;
}
