/* Board support for QEMU's mps2-an385 (Cortex-M3 at 25 MHz, CMSDK peripherals): the pieces a
 * taskscope firmware needs from a board, and nothing else.
 *
 *   clock    TIMER0, a 32-bit down-counter reloaded at 0xFFFFFFFF, read inverted so it counts up
 *            at BOARD_CLOCK_HZ and wraps every 2^32 ticks (171 s): the taskscope clock.
 *   wake-up  TIMER1, one-shot, interrupts the idle loop at a clock reading (board_sleep_until).
 *   link     UART0 (0x40004000): the trace link. The receive interrupt queues bytes; sends wait
 *            for the transmit register (QEMU holds it full while the host is not reading).
 *   console  UART1 (0x40005000): human-readable lines, never mixed into the link.
 *   exit     semihosting SYS_EXIT (QEMU -semihosting-config enable=on,target=native); on a real
 *            board without a debugger it would fault, so only tests and the bench call it.
 *
 * Interrupt numbers (AN385): UART0 RX 0, UART1 RX 2, TIMER0 8, TIMER1 9. */
#ifndef BOARD_H
#define BOARD_H

#include <stdint.h>

#define BOARD_CLOCK_HZ 25000000u
#define BOARD_IRQ_UART0_RX 0u
#define BOARD_IRQ_TIMER1 9u

#define REG32(addr) (*(volatile uint32_t*)(addr))
#define BOARD_TIMER0_VALUE REG32(0x40000004u)

/** The free-running clock: ticks at BOARD_CLOCK_HZ, wraps at 2^32. */
static inline uint32_t board_clock(void) {
  return ~BOARD_TIMER0_VALUE;
}

/** Starts the clock, the link UART (with its receive interrupt) and the console. */
void board_init(void);

/** Called from interrupt handlers around their work, so the firmware can record them (ISR_ENTER /
 *  ISR_EXIT). Weak no-ops unless the firmware defines them. */
void board_isr_enter(uint32_t irq);
void board_isr_exit(uint32_t irq);
/** Called from the UART0 receive interrupt with the bytes it took. Weak: by default the bytes go
 *  to a FIFO that board_link_read empties. */
void board_link_received(const uint8_t* bytes, uint32_t n);
uint32_t board_link_read(uint8_t* dst, uint32_t cap);

/** Writes to the link UART; waits while the transmit register is full. */
void board_link_write(const uint8_t* bytes, uint32_t n);

/** Sleeps (WFI) until an interrupt: the TIMER1 wake-up at clock reading `raw`, if `armed`, or a
 *  received byte. Interrupts are taken here and only here by firmware that runs with them masked
 *  (board_mask_interrupts). */
void board_sleep_until(uint32_t raw, int armed);
void board_mask_interrupts(void);

/** A periodic interrupt every `ticks` clock ticks (the dual timer, IRQ 10): calls
 *  board_periodic_handler() (weak: define it). 0 stops it. */
#define BOARD_IRQ_DUALTIMER 10u
void board_start_periodic(uint32_t ticks);
void board_periodic_handler(void);

/** A line on the console UART (UART1). */
void board_console(const char* text);
void board_console_u32(const char* label, uint32_t value);

/** How many times this board has booted since power-on (kept in RAM that a reset leaves alone):
 *  mixed into the session id so a reset is a new session even when the clock reads the same. */
uint32_t board_boot_count(void);

/** A word a test may place at BOARD_PARAM_ADDR with QEMU's -device loader (0 if none). */
#define BOARD_PARAM_ADDR 0x203ffff0u
uint32_t board_param(uint32_t index);

/** Ends the emulation with `code` (semihosting). */
void board_exit(int code) __attribute__((noreturn));
/** Reports a fatal error on the console and stops. */
void board_fatal(const char* what) __attribute__((noreturn));

#endif
