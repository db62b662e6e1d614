/* The baseline: a hand-written C ring doing the core's job for the events the bench records, as a
 * C programmer would write it for a microcontroller. Same output, byte for byte (bench/mcu.ts
 * checks): wire format 2 chunks of 256 bytes in a 64-chunk ring (seq, 64-bit base ticks, context
 * task and resource, then events as tag, varint delta, varint fields), the compact forms the
 * core uses for these events (AWAIT_SAME, AWAIT_PENDING merged into the AWAIT), the filter test,
 * the current task, the 32-to-64-bit clock extension, overwrite accounting with the times of the
 * first and last dropped event, and the bookkeeping a serial link needs from the ring (each
 * chunk's last event time, a send cursor separate from the oldest kept chunk). A fast path for
 * the usual case (delta and fields below 128, room in the chunk), a slow path for the rest. */

#include <string.h>
#include "bench.h"

#ifdef BENCH_HOST
uint32_t bench_fake_clock;
#endif

#define CHUNK_SIZE 256u
#define CHUNK_COUNT 64u
#define HEADER 12u

enum { POLL_BEGIN = 0x02, POLL_READY = 0x03, POLL_PENDING = 0x04, WAKE_TASK = 0x05, WAKE_SELF = 0x06, WAKE_IRQ = 0x07, WAKE_EXT = 0x08,
       AWAIT = 0x0d, AWAIT_SAME = 0x26, AWAIT_PENDING = 0x27, AWAIT_SAME_PENDING = 0x28 };
enum { CAT_POLL = 1u << 1, CAT_WAKE = 1u << 2, CAT_AWAIT = 1u << 3 };

static uint8_t ring[CHUNK_COUNT * CHUNK_SIZE] __attribute__((aligned(16)));
static uint16_t slot_used[CHUNK_COUNT], slot_events[CHUNK_COUNT];
static uint64_t slot_last[CHUNK_COUNT]; /* ticks of each sealed chunk's last event */

/* The hot state in one struct: one base register reaches all of it (on a Cortex-M, separate
 * globals would each cost a literal-pool load). */
static struct {
  uint8_t *wp, *wend, *chunk_end, *open_base;
  uint32_t head, tail, send_seq, open_events; /* tail <= send_seq <= head */
  int is_open;
  uint32_t ev_raw, ev_raw_slow, base_raw;
  uint64_t ev_ticks_slow, base_ticks, sealed_events, dropped_overwritten, first_drop, last_drop;
  uint32_t chunks_overwritten;
  uint32_t filter, current, last_res, isr_depth, isr_current;
  uint8_t *await_tag, *await_end;
} S = {.await_end = (uint8_t*)1};

static inline uint8_t* put(uint8_t* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  *p++ = (uint8_t)v;
  return p;
}

static inline void store16(uint8_t* p, uint32_t v) {
  uint16_t h = (uint16_t)v;
  memcpy(p, &h, 2);
}

static inline uint64_t prev_ticks(void) { return S.ev_ticks_slow + (uint32_t)(S.ev_raw - S.ev_raw_slow); }

static void seal(void) {
  if (!S.is_open) return;
  uint32_t slot = S.head % CHUNK_COUNT;
  slot_used[slot] = (uint16_t)(S.wp - S.open_base);
  slot_events[slot] = (uint16_t)S.open_events;
  slot_last[slot] = prev_ticks();
  S.sealed_events += S.open_events;
  S.open_events = 0;
  S.head++;
  S.is_open = 0;
  S.wp = S.wend = S.chunk_end = 0;
}

static uint8_t* open_chunk(uint64_t now) {
  seal();
  if (S.head - S.tail >= CHUNK_COUNT) { /* reuse the oldest slot */
    if (S.tail != S.send_seq) {
      S.tail++; /* already sent: only the copy kept for a resend goes */
    } else {
      uint32_t slot = S.tail % CHUNK_COUNT;
      uint64_t base;
      memcpy(&base, &ring[slot * CHUNK_SIZE + 4], 8);
      S.dropped_overwritten += slot_events[slot];
      S.chunks_overwritten++;
      if (S.first_drop == 0) S.first_drop = base;
      S.last_drop = slot_last[slot];
      S.tail++;
      S.send_seq++;
    }
  }
  uint8_t* base = &ring[(S.head % CHUNK_COUNT) * CHUNK_SIZE];
  memcpy(base, &S.head, 4);
  memcpy(base + 4, &now, 8);
  S.open_base = base;
  S.chunk_end = S.wend = base + CHUNK_SIZE;
  S.is_open = 1;
  S.await_end = (uint8_t*)1;
  return put(put(base + HEADER, S.current), S.last_res);
}

/* Any event the fast path cannot take: 64-bit delta, room for the widest fields. */
static __attribute__((noinline)) uint8_t* slow(uint8_t tag, int fields, uint32_t a, uint32_t b, uint32_t raw) {
  S.base_ticks += raw - S.base_raw;
  S.base_raw = raw;
  uint64_t now = S.base_ticks;
  uint64_t dt = now - prev_ticks();
  uint8_t* p = S.wp;
  if (p + (dt < 0x80 ? 2 : 11) + 5 * fields > S.chunk_end) {
    p = open_chunk(now);
    dt = 0;
  }
  S.ev_raw = S.ev_raw_slow = raw;
  S.ev_ticks_slow = now;
  S.wend = S.chunk_end;
  uint8_t* at = p;
  *p++ = tag;
  p = put(p, dt);
  if (fields > 0) p = put(p, a);
  if (fields > 1) p = put(p, b);
  S.wp = p;
  S.open_events++;
  return at;
}

static inline uint8_t* rec1(uint8_t tag, uint32_t x) {
  uint32_t raw = bench_clock();
  uint8_t* p = S.wp;
  uint32_t dt = raw - S.ev_raw;
  if ((dt | x) < 0x80 && p + 3 <= S.wend) {
    store16(p, tag | dt << 8);
    p[2] = (uint8_t)x;
    S.wp = p + 3;
    S.ev_raw = raw;
    S.open_events++;
    return p;
  }
  return slow(tag, 1, x, 0, raw);
}

static inline uint8_t* rec2(uint8_t tag, uint32_t x, uint32_t y) {
  uint32_t raw = bench_clock();
  uint8_t* p = S.wp;
  uint32_t dt = raw - S.ev_raw;
  if ((dt | x | y) < 0x80 && p + 4 <= S.wend) {
    store16(p, tag | dt << 8);
    store16(p + 2, x | y << 8);
    S.wp = p + 4;
    S.ev_raw = raw;
    S.open_events++;
    return p;
  }
  return slow(tag, 2, x, y, raw);
}

static inline void rec0(uint8_t tag) {
  uint32_t raw = bench_clock();
  uint8_t* p = S.wp;
  uint32_t dt = raw - S.ev_raw;
  if (dt < 0x80 && p + 2 <= S.wend) {
    store16(p, tag | dt << 8);
    S.wp = p + 2;
    S.ev_raw = raw;
    S.open_events++;
  } else {
    slow(tag, 0, 0, 0, raw);
  }
}

void bench_init(uint32_t tick_hz) {
  (void)tick_hz;
  S.base_raw = bench_clock();
  S.base_ticks = S.base_raw;
  S.ev_raw = S.ev_raw_slow = S.base_raw;
  S.ev_ticks_slow = S.base_ticks;
  S.filter = (1u << 12) - 1;
}

void bench_poll_begin(uint32_t task) {
  S.current = task;
  if (S.filter & CAT_POLL) rec1(POLL_BEGIN, task);
}

void bench_poll_end(int ready) {
  if (S.filter & CAT_POLL) {
    if (!ready && S.wp == S.await_end) { /* merged into the AWAIT: AWAIT_PENDING */
      *S.await_tag = *S.await_tag == AWAIT ? AWAIT_PENDING : AWAIT_SAME_PENDING;
      S.open_events++;
      S.await_end = (uint8_t*)1;
    } else {
      rec0(ready ? POLL_READY : POLL_PENDING);
    }
  }
  S.current = 0;
}

void bench_wake(uint32_t target) {
  if (!(S.filter & CAT_WAKE)) return;
  if (S.isr_depth) rec2(WAKE_IRQ, target, S.isr_current);
  else if (S.current == 0) rec1(WAKE_EXT, target);
  else if (S.current == target) rec1(WAKE_SELF, target);
  else rec2(WAKE_TASK, target, S.current);
}

void bench_await(uint32_t site, uint32_t resource) {
  if (!(S.filter & CAT_AWAIT)) return;
  uint8_t* at;
  if (resource == S.last_res) {
    at = rec1(AWAIT_SAME, site);
  } else {
    S.last_res = resource;
    at = rec2(AWAIT, site, resource);
  }
  S.await_tag = at;
  S.await_end = S.wp;
}

void bench_flush(void) {
  if (S.is_open && S.open_events > 0) seal();
}

uint64_t bench_recorded(void) { return S.sealed_events + S.open_events; }

/* CHUNK records of every chunk still in the ring, oldest first (the bench compares them). */
uint32_t bench_drain(uint8_t* dst, uint32_t cap) {
  uint32_t n = 0;
  for (uint32_t seq = S.tail; seq != S.head; seq++) {
    uint32_t len = slot_used[seq % CHUNK_COUNT];
    if (n + 3 + len > cap) break;
    dst[n] = 0x03;
    dst[n + 1] = (uint8_t)len;
    dst[n + 2] = (uint8_t)(len >> 8);
    memcpy(dst + n + 3, &ring[(seq % CHUNK_COUNT) * CHUNK_SIZE], len);
    n += 3 + len;
  }
  return n;
}
