/* The recording benchmark's loops (bench/mcu.ts), the same for the core and the C ring:
 *   mix A: poll begin, poll end (Pending)                         2 events per iteration
 *   mix B: poll begin, wake of another task, await, poll end      4 events per iteration
 * Instructions per event include the loop and the calls, as a firmware pays them.
 *
 * Cortex-M3 (QEMU with -icount shift=0: one instruction, one virtual nanosecond): each mix runs
 * between two reads of the 25 MHz timer; the console line gives the ticks (40 instructions each).
 * Host (x86-64, callgrind): `bench-*-x86 mix-a N` runs one mix; callgrind counts the instructions
 * inside bench_mix_a/bench_mix_b. `bench-*-x86 dump FILE` records a fixed script and writes its
 * records to FILE, for the bench to check that the core and the ring wrote the same chunks. */

#include <stdint.h>
#include "bench.h"

#define SITE 3u
#define RES 2u

__attribute__((noinline)) void bench_mix_a(uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    bench_poll_begin((i & 15u) + 1u);
    bench_poll_end(0);
  }
}

__attribute__((noinline)) void bench_mix_b(uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    bench_poll_begin((i & 15u) + 1u);
    bench_wake(((i + 7u) & 15u) + 1u);
    bench_await(SITE, RES);
    bench_poll_end(0);
  }
}

#ifdef BENCH_HOST
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t out[1 << 20];

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s mix-a|mix-b N | dump FILE\n", argv[0]);
    return 2;
  }
  bench_init(1000000);
  if (strcmp(argv[1], "dump") == 0) {
    bench_mix_a(300);
    bench_mix_b(300);
    bench_mix_a(5); /* and a poll without an await: no merge */
    bench_flush();
    uint32_t n = bench_drain(out, sizeof out);
    FILE* f = fopen(argv[2], "wb");
    if (!f || fwrite(out, 1, n, f) != n || fclose(f) != 0) return 1;
    printf("recorded %llu\n", (unsigned long long)bench_recorded());
    return 0;
  }
  uint32_t n = (uint32_t)strtoul(argv[2], 0, 10);
  bench_mix_a(1000); /* warm: the ring has wrapped, as in a long run */
  bench_mix_b(1000);
  if (strcmp(argv[1], "mix-a") == 0) bench_mix_a(n);
  else bench_mix_b(n);
  printf("recorded %llu\n", (unsigned long long)bench_recorded());
  return 0;
}
#else
#define N 20000u

static uint32_t measure(void (*mix)(uint32_t)) {
  uint32_t t0 = board_clock();
  mix(N);
  return board_clock() - t0;
}

int main(void) {
  board_init();
  bench_init(BOARD_CLOCK_HZ);
  bench_mix_a(2000); /* warm: the ring has wrapped, as in a long run */
  bench_mix_b(2000);
  uint32_t a = measure(bench_mix_a), b = measure(bench_mix_b);
  /* The same span with an empty loop body's cost is part of each figure (loop and calls). */
  board_console_u32("bench: iterations", N);
  board_console_u32("bench: mix-a ticks", a);
  board_console_u32("bench: mix-b ticks", b);
  board_console_u32("bench: recorded", (uint32_t)bench_recorded());
  return 0; /* the start-up code exits through semihosting */
}
#endif
