/* taskscope for C firmware: record what your tasks and interrupts do, pull it over a UART.
 *
 * The recorder is the same core the AssemblyScript firmware uses (core/*.ts), compiled to C by
 * `npm run build:mcu` (wasm2c) and linked behind this header; nothing here needs wasm. Storage is
 * static (sizes fixed when the core is built, see core/c/README.md), nothing allocates, and every
 * call is short (a few dozen instructions for the common events).
 *
 *   #include "taskscope.h"
 *   taskscope_init(TASKSCOPE_OVERWRITE, 25000000, "my-board", "fw 1.2", boot_counter);
 *   uint32_t worker = taskscope_task_name("worker");          // names once, at start-up
 *   uint32_t rx_site = taskscope_site_name("worker: wait rx");
 *   taskscope_task_spawn(1, 0, worker);
 *   taskscope_poll_begin(1); ... taskscope_await(rx_site, uart_res); taskscope_poll_end(0);
 *   // from the main loop: hand over received bytes, let the link answer the host
 *   taskscope_link_receive(bytes, n);
 *   while (taskscope_link_service()) {}
 *
 * Concurrency: each call runs under the port's lock (taskscope_port.h, e.g. interrupts masked
 * on a Cortex-M), so interrupt handlers may record (taskscope_isr_enter, taskscope_wake ...)
 * while the main loop does. The link calls hold the lock too, for as long as one frame takes.
 *
 * Ids: tasks, resources and flows are small integers you choose (tasks, below the core's
 * TASKSCOPE_MAX_TASKS for request tracking) or the core hands out (resources, flows); names are
 * ids from the taskscope_*_name functions. 0 means "none" everywhere. */
#ifndef TASKSCOPE_H
#define TASKSCOPE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { TASKSCOPE_OVERWRITE = 0, TASKSCOPE_STOP = 1 } taskscope_mode_t;

/* Resource kinds, operations and outcomes (docs/FORMAT.md section 4). */
enum { TASKSCOPE_CHANNEL = 0, TASKSCOPE_MUTEX = 1, TASKSCOPE_TIMER = 2, TASKSCOPE_IO = 3 };
enum { TASKSCOPE_SEND = 0, TASKSCOPE_RECV = 1, TASKSCOPE_ACQUIRE = 2, TASKSCOPE_RELEASE = 3 };
enum { TASKSCOPE_OK = 0, TASKSCOPE_BLOCKED = 1, TASKSCOPE_UNBLOCKED = 2 };
/* Log levels. */
enum { TASKSCOPE_TRACE = 0, TASKSCOPE_DEBUG = 1, TASKSCOPE_INFO = 2, TASKSCOPE_WARN = 3, TASKSCOPE_ERROR = 4 };
/* Filter categories (taskscope_set_filter): one bit each. */
enum {
  TASKSCOPE_CAT_TASK = 1u << 0, TASKSCOPE_CAT_POLL = 1u << 1, TASKSCOPE_CAT_WAKE = 1u << 2,
  TASKSCOPE_CAT_AWAIT = 1u << 3, TASKSCOPE_CAT_RESOURCE = 1u << 4, TASKSCOPE_CAT_FLOW = 1u << 5,
  TASKSCOPE_CAT_LOG = 1u << 6, TASKSCOPE_CAT_MARK = 1u << 7, TASKSCOPE_CAT_MEM = 1u << 8,
  TASKSCOPE_CAT_IDLE = 1u << 9, TASKSCOPE_CAT_ISR = 1u << 10, TASKSCOPE_CAT_TIMER = 1u << 11,
  TASKSCOPE_CAT_ALL = (1u << 12) - 1u
};

/* ---- start-up ---- */

/** Starts recording (again). `tick_hz`: the rate of the port's clock; `session`: something that
 *  differs per boot (a boot counter, a random number; 0 derives one from the clock). Device and
 *  firmware names are cut to 63 bytes. Call once before anything else; calling it again starts a
 *  new session and keeps the names. */
void taskscope_init(taskscope_mode_t mode, uint32_t tick_hz, const char* device, const char* firmware, uint32_t session);

/** Interned names (UTF-8, cut to 255 bytes): the same text gives the same id; 0 when the names
 *  table is full (counted and reported). Intern at start-up, keep the ids. */
uint32_t taskscope_task_name(const char* text);
uint32_t taskscope_site_name(const char* text);     /* an await point, e.g. "worker: wait rx" */
uint32_t taskscope_resource_name(const char* text);
uint32_t taskscope_log_format(const char* text);    /* "{}" stands for each argument */
uint32_t taskscope_mark_name(const char* text);
uint32_t taskscope_counter_name(const char* text);
uint32_t taskscope_flow_name(const char* text);     /* a kind of request, e.g. "GET /status" */

/* ---- tasks and polls ---- */

/** `task` was created by `parent` (0: outside any task) under name `name`; it inherits the
 *  parent's flow. */
void taskscope_task_spawn(uint32_t task, uint32_t parent, uint32_t name);
/** A poll of `task` starts; events until poll_end are the task's. */
void taskscope_poll_begin(uint32_t task);
/** The poll returned: ready (non-zero, the task is done) or pending (0). */
void taskscope_poll_end(int ready);
/** The task ended: completed, or cancelled (non-zero). */
void taskscope_task_end(uint32_t task, int cancelled);

/* ---- wakes and wakers ---- */

/** `target` became runnable. The source is inferred: the interrupt being handled
 *  (taskscope_isr_enter), the task being polled (itself: a self-wake), or outside both. */
void taskscope_wake(uint32_t target);
void taskscope_wake_by_task(uint32_t target, uint32_t by);
void taskscope_wake_by_irq(uint32_t target, uint32_t irq);
void taskscope_wake_external(uint32_t target);
/** A stored waker woke `target` and was used up (wake + waker drop, one event on the wire). */
void taskscope_wake_and_drop(uint32_t target);
void taskscope_wake_by_task_and_drop(uint32_t target, uint32_t by);
/** A waker for `task` was stored (registered interest) / released. */
void taskscope_waker_clone(uint32_t task);
void taskscope_waker_drop(uint32_t task);

/* ---- await points and resources ---- */

/** The polled task parks at `site` waiting on `resource` (0: none). Call it right before
 *  taskscope_poll_end(0). */
void taskscope_await(uint32_t site, uint32_t resource);
/** A channel, mutex, timer or io object (TASKSCOPE_CHANNEL ...); returns its id. */
uint32_t taskscope_resource_create(uint32_t kind, uint32_t name, uint32_t capacity);
/** The polled task did `op` on `res` with `outcome`; `level`: the fill afterwards. */
void taskscope_resource_op(uint32_t res, uint32_t op, uint32_t outcome, uint32_t level);
void taskscope_resource_drop(uint32_t res);

/* ---- timers ---- */

/** The polled task armed a timer of resource `res` for `deadline` (device ticks, taskscope_now). */
void taskscope_timer_arm(uint32_t res, uint64_t deadline);
/** `task`'s timer fired; taskscope_timer_fire_wake also records the wake it causes, using up the
 *  waker the timer held (the usual case, one event on the wire). */
void taskscope_timer_fire(uint32_t task, uint32_t res);
void taskscope_timer_fire_wake(uint32_t task, uint32_t res);

/* ---- requests (flows) ---- */

/** The polled task starts serving a request of kind `name`; returns the flow id. Tasks it spawns
 *  inherit it; pass taskscope_current_flow() along with messages and call taskscope_flow_enter
 *  where they are received. */
uint32_t taskscope_flow_begin(uint32_t name);
void taskscope_flow_end(uint32_t flow);
void taskscope_flow_enter(uint32_t flow);
void taskscope_flow_enter_task(uint32_t task, uint32_t flow);
uint32_t taskscope_current_flow(void);

/* ---- logs, marks, counters, memory ---- */

void taskscope_log0(uint32_t format, uint32_t level);
void taskscope_log1(uint32_t format, uint32_t level, int64_t a);
void taskscope_log2(uint32_t format, uint32_t level, int64_t a, int64_t b);
void taskscope_log3(uint32_t format, uint32_t level, int64_t a, int64_t b, int64_t c);
void taskscope_log4(uint32_t format, uint32_t level, int64_t a, int64_t b, int64_t c, int64_t d);
void taskscope_mark(uint32_t name);
void taskscope_counter(uint32_t name, int64_t value);
void taskscope_mem_sample(uint32_t task, uint32_t bytes);

/* ---- idle and interrupts ---- */

void taskscope_idle_begin(void);
void taskscope_idle_end(void);
/** Bracket an interrupt handler's work; wakes inside are attributed to `irq`. */
void taskscope_isr_enter(uint32_t irq);
void taskscope_isr_exit(uint32_t irq);

/* ---- clock and filter ---- */

/** Device ticks (64-bit, from the port's 32-bit clock; the core's own link and drain time left
 *  out). Read it at least once per wrap of the port's clock (any event reads it). */
uint64_t taskscope_now(void);
uint32_t taskscope_tick_hz(void);
/** Records only the categories in `mask` (TASKSCOPE_CAT_*); a host may change it too. */
void taskscope_set_filter(uint32_t mask);
uint32_t taskscope_filter(void);
uint64_t taskscope_events_recorded(void);
/** Device ticks hidden so far: the core's own link servicing and drains (COUNTERS `hidden`). */
uint64_t taskscope_hidden_ticks(void);

/* ---- the serial link (docs/FORMAT.md section 7): the host asks, the device answers ---- */

/** Hands over bytes received from the host (from the UART interrupt or the main loop). */
void taskscope_link_receive(const uint8_t* bytes, uint32_t n);
/** Answers one command or sends one frame; non-zero while there is more to do right away. Call it
 *  from the main loop (never from inside another taskscope call). The port's link write sends. */
int taskscope_link_service(void);

/* ---- draining without the link (records of docs/FORMAT.md section 2) ---- */

/** Seals the open chunk so a drain takes everything recorded so far. */
void taskscope_flush(void);
/** Copies records into `dst` (at most `cap` bytes; 0 if `cap` is below taskscope_min_drain_bytes());
 *  returns the bytes written. */
uint32_t taskscope_drain(uint8_t* dst, uint32_t cap);
uint32_t taskscope_min_drain_bytes(void);
/** Non-zero while a drain would hand over something. */
int taskscope_pending(void);

#ifdef __cplusplus
}
#endif

#endif
