/* The recording benchmark's interface (bench/mcu.ts): bench-core.c implements it over the
 * taskscope core (core/c/taskscope.h), c-ring.c as a hand-written C ring doing the same job: the
 * same wire format 2 chunks (tag, varint delta, varint fields; compact AWAIT/POLL_PENDING and the
 * resource state), the same chunked ring with overwrite accounting, the same filter test and
 * clock extension. bench-main.c runs both through the same loops. */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>

/* The clock both read: the board's timer on Cortex-M, a counter (3 ticks per read) on the host. */
#ifdef BENCH_HOST
extern uint32_t bench_fake_clock;
static inline uint32_t bench_clock(void) { return bench_fake_clock += 3; }
#else
#include "board.h"
static inline uint32_t bench_clock(void) { return board_clock(); }
#endif

void bench_init(uint32_t tick_hz);
#ifdef BENCH_CORE
/* The loops call the core's API functions themselves, as a C firmware does. */
#include "taskscope.h"
#define bench_poll_begin taskscope_poll_begin
#define bench_poll_end taskscope_poll_end
#define bench_wake taskscope_wake
#define bench_await taskscope_await
#define bench_flush taskscope_flush
#else
void bench_poll_begin(uint32_t task);
void bench_poll_end(int ready);
void bench_wake(uint32_t target);
void bench_await(uint32_t site, uint32_t resource);
void bench_flush(void);
#endif
/** Records (docs/FORMAT.md section 2) of everything recorded: at least the CHUNK records. */
uint32_t bench_drain(uint8_t* dst, uint32_t cap);
uint64_t bench_recorded(void);

#endif
