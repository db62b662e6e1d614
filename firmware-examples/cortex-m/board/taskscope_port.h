/* The taskscope port for mps2-an385 (core/c/taskscope.c includes this): the clock is TIMER0
 * (25 MHz, inlined: one load per event), the link writes to UART0, and every call runs with
 * interrupts masked (PRIMASK saved and restored: three instructions), so interrupt handlers may
 * record. */
#ifndef TASKSCOPE_PORT_H
#define TASKSCOPE_PORT_H

#include "board.h"

#define TASKSCOPE_PORT_CLOCK() board_clock()
#define TASKSCOPE_PORT_LINK_WRITE(bytes, n) board_link_write((bytes), (n))

static inline uint32_t taskscope_port_lock(void) {
  uint32_t m;
  __asm volatile("mrs %0, primask\n cpsid i" : "=r"(m)::"memory");
  return m;
}
static inline void taskscope_port_unlock(uint32_t m) { __asm volatile("msr primask, %0" ::"r"(m) : "memory"); }

#ifndef TASKSCOPE_NO_LOCK
#define TASKSCOPE_PORT_LOCK() taskscope_port_lock()
#define TASKSCOPE_PORT_UNLOCK(state) taskscope_port_unlock(state)
#endif

#endif
