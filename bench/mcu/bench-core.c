/* bench.h over the taskscope core (core/c/taskscope.h): the loops call taskscope_* directly
 * (BENCH_CORE); this adds start-up and the drain the bench checks the output with. */

#include "bench.h"
#include "taskscope.h"

#ifdef BENCH_HOST
uint32_t bench_fake_clock;
#include <stdio.h>
#include <stdlib.h>
void taskscope_port_trap(const char* message) {
  fprintf(stderr, "%s\n", message);
  exit(70);
}
#else
void taskscope_port_trap(const char* message) { board_fatal(message); }
#endif

void bench_init(uint32_t tick_hz) { taskscope_init(TASKSCOPE_OVERWRITE, tick_hz, "bench", "bench-core", 1); }
uint64_t bench_recorded(void) { return taskscope_events_recorded(); }

uint32_t bench_drain(uint8_t* dst, uint32_t cap) {
  uint32_t n = 0;
  while (cap - n >= taskscope_min_drain_bytes()) {
    uint32_t got = taskscope_drain(dst + n, cap - n);
    n += got;
    if (!taskscope_pending()) break;
  }
  return n;
}
