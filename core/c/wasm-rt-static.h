/* taskscope's freestanding wasm2c runtime: what the generated core (tscore.c) needs from it beyond
 * wasm2c's own wasm-rt.h. See wasm-rt-static.c.
 *
 * Two ways to keep the core inside its memory, each the cheapest its target allows:
 *   masked (the default, microcontrollers): described below.
 *   guard pages (-DTASKSCOPE_LM_GUARD, 64-bit hosts: the bench's x86-64 build): the linear memory
 *   is mapped at a fixed address with 8 GiB of address space reserved behind it and nothing but
 *   TASKSCOPE_LM_BYTES accessible, so any address a wasm access can form (u32 + u32 offset) either
 *   lands in the memory or faults: wasm2c's own 64-bit scheme, with a constant base.
 *
 * Memory safety, cheaply. wasm2c's own bounds check compares every access against the memory's
 * size in 64 bits (a 32-bit target cannot use guard pages); on a Cortex-M3 that alone made the
 * core 1.3-1.4x the instructions of a hand-written C ring. Here the linear memory is a static
 * array of TASKSCOPE_LM_BYTES, a power of two, and every load and store takes its address modulo
 * that size (one AND): whatever address the core computes, it reads and writes inside its own
 * array and never the firmware's RAM. An access past the end wraps around inside the array
 * instead of trapping; the core never makes one (its static layout is checked against the array
 * size at build time and again at start-up). The array has TASKSCOPE_LM_SLACK extra bytes so an
 * 8-byte access at the last masked address stays inside it. Bulk operations (memory.fill/copy,
 * data segments) keep wasm2c's range check against the array size.
 *
 * The build rewrites the one place in wasm2c's generated prelude that forms the address of a
 * load or store (`&mem->data[addr]`) into TASKSCOPE_LM_AT(addr), and fails if it is not there. */
#ifndef TASKSCOPE_WASM_RT_STATIC_H
#define TASKSCOPE_WASM_RT_STATIC_H

#include <stdint.h>
#include <string.h>
#include "taskscope-lm.h" /* TASKSCOPE_LM_BYTES, generated next to the core's C by npm run build:mcu */

#ifndef TASKSCOPE_LM_BYTES
#error "TASKSCOPE_LM_BYTES (the core's linear memory, a power of two) must be defined: see taskscope-lm.h"
#endif
#if (TASKSCOPE_LM_BYTES & (TASKSCOPE_LM_BYTES - 1)) != 0
#error "TASKSCOPE_LM_BYTES must be a power of two"
#endif

#define TASKSCOPE_LM_SLACK 8u

#ifdef TASKSCOPE_LM_GUARD
#define TASKSCOPE_LM_GUARD_ADDR 0x60000000ull /* below 2^31: the base is an instruction's displacement */
#define TASKSCOPE_LM_RESERVED (8ull << 30)       /* every u32 address plus a u32 offset */
#define taskscope_lm ((uint8_t*)(uintptr_t)TASKSCOPE_LM_GUARD_ADDR)
#define TASKSCOPE_LM_AT(addr) (&taskscope_lm[(addr)])
#else
extern uint8_t taskscope_lm[TASKSCOPE_LM_BYTES + TASKSCOPE_LM_SLACK];
#define TASKSCOPE_LM_AT(addr) (&taskscope_lm[(uint32_t)(addr) & (uint32_t)(TASKSCOPE_LM_BYTES - 1u)])
#endif

/** Called by wasm_rt_trap: reports the trap (a message naming it) and does not return. The
 *  firmware (or its port header) defines it. */
void taskscope_port_trap(const char* message) __attribute__((noreturn));

/** The `len` bytes at `ptr` of the core's memory, for C that reads or fills them (the link's
 *  writer and receiver, names, drains): the core's pointer and length are checked to lie inside
 *  it first. */
static inline uint8_t* taskscope_lm_bytes(uint32_t ptr, uint32_t len) {
  if (ptr > TASKSCOPE_LM_BYTES || len > TASKSCOPE_LM_BYTES - ptr) taskscope_port_trap("taskscope: bytes lie outside the core's memory");
  return &taskscope_lm[ptr];
}

/** Hands `n` received bytes to the link of module `mod` (its wasm2c name: tscore, demo) with
 *  instance `inst`: copied into the core's receive buffer and handed on in parts of its size.
 *  A macro because each module's exports carry its name. */
#define TASKSCOPE_LINK_FEED(mod, inst, bytes, n)                                   \
  do {                                                                             \
    const uint8_t* feed_at_ = (bytes);                                             \
    uint32_t feed_left_ = (n);                                                     \
    const uint32_t feed_room_ = Z_##mod##Z_taskscope_link_rx_buffer_size(inst);    \
    uint8_t* feed_buf_ =                                                           \
        taskscope_lm_bytes(Z_##mod##Z_taskscope_link_rx_buffer(inst), feed_room_); \
    while (feed_left_ > 0) {                                                       \
      const uint32_t part_ = feed_left_ < feed_room_ ? feed_left_ : feed_room_;    \
      memcpy(feed_buf_, feed_at_, part_);                                          \
      Z_##mod##Z_taskscope_link_receive((inst), part_);                            \
      feed_at_ += part_;                                                           \
      feed_left_ -= part_;                                                         \
    }                                                                              \
  } while (0)

#endif
