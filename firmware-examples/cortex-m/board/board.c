/* mps2-an385 board support (see board.h): CMSDK timers and UARTs, the NVIC, semihosting exit. */

#include "board.h"

#define TIMER0 0x40000000u
#define TIMER1 0x40001000u
#define UART0 0x40004000u
#define UART1 0x40005000u

/* CMSDK APB timer: CTRL, VALUE (counts down), RELOAD, INTSTATUS/INTCLEAR */
#define T_CTRL 0x00u
#define T_VALUE 0x04u
#define T_RELOAD 0x08u
#define T_INTCLEAR 0x0Cu
#define T_ENABLE 1u
#define T_IRQ_ENABLE 8u

/* CMSDK APB UART: DATA, STATE (bit 0 TX full, bit 1 RX full), CTRL, INTSTATUS/INTCLEAR, BAUDDIV */
#define U_DATA 0x00u
#define U_STATE 0x04u
#define U_CTRL 0x08u
#define U_INTCLEAR 0x0Cu
#define U_BAUDDIV 0x10u
#define U_TX_FULL 1u
#define U_RX_FULL 2u
#define U_TX_EN 1u
#define U_RX_EN 2u
#define U_RX_IRQ_EN 8u
#define U_RX_IRQ 2u

#define NVIC_ISER0 0xE000E100u

static inline void irq_mask(void) { __asm volatile("cpsid i" ::: "memory"); }
static inline void irq_unmask(void) { __asm volatile("cpsie i\n isb" ::: "memory"); }
static inline uint32_t primask(void) {
  uint32_t v;
  __asm volatile("mrs %0, primask" : "=r"(v));
  return v;
}

/* ---- boot counter and test parameters ---- */

#define BOOT_MAGIC 0x7a5c0b07u
static uint32_t boot_magic __attribute__((section(".noinit")));
static uint32_t boot_count __attribute__((section(".noinit")));

uint32_t board_boot_count(void) { return boot_count; }

uint32_t board_param(uint32_t index) { return REG32(BOARD_PARAM_ADDR + 4u * index); }

/* ---- link receive FIFO (filled by the UART0 receive interrupt) ---- */

#define RX_FIFO 256u /* a power of two */
static uint8_t rx_fifo[RX_FIFO];
static volatile uint32_t rx_head, rx_tail; /* written by the ISR / by the reader */

__attribute__((weak)) void board_isr_enter(uint32_t irq) { (void)irq; }
__attribute__((weak)) void board_isr_exit(uint32_t irq) { (void)irq; }

__attribute__((weak)) void board_link_received(const uint8_t* bytes, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    /* A full FIFO drops the byte: the link's CRC turns that into one damaged command. */
    if (rx_head - rx_tail < RX_FIFO) {
      rx_fifo[rx_head % RX_FIFO] = bytes[i];
      rx_head++;
    }
  }
}

uint32_t board_link_read(uint8_t* dst, uint32_t cap) {
  uint32_t n = 0;
  while (n < cap && rx_tail != rx_head) {
    dst[n++] = rx_fifo[rx_tail % RX_FIFO];
    rx_tail++;
  }
  return n;
}

void UART0RX_Handler(void) {
  board_isr_enter(BOARD_IRQ_UART0_RX);
  /* Clear first, then empty the data register: a byte landing after the last read raises the
   * interrupt again instead of waiting, unseen, in a full register that blocks the line. */
  REG32(UART0 + U_INTCLEAR) = U_RX_IRQ;
  uint8_t bytes[16];
  uint32_t n = 0;
  while (n < sizeof bytes && (REG32(UART0 + U_STATE) & U_RX_FULL)) bytes[n++] = (uint8_t)REG32(UART0 + U_DATA);
  if (n > 0) board_link_received(bytes, n);
  board_isr_exit(BOARD_IRQ_UART0_RX);
}

static void uart_put(uint32_t base, uint8_t b) {
  while (REG32(base + U_STATE) & U_TX_FULL) {
  }
  REG32(base + U_DATA) = b;
}

void board_link_write(const uint8_t* bytes, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) uart_put(UART0, bytes[i]);
}

/* ---- idle wake-up ---- */

void TIMER1_Handler(void) {
  board_isr_enter(BOARD_IRQ_TIMER1);
  REG32(TIMER1 + T_CTRL) = 0;
  REG32(TIMER1 + T_INTCLEAR) = 1;
  board_isr_exit(BOARD_IRQ_TIMER1);
}

void board_sleep_until(uint32_t raw, int armed) {
  uint32_t was = primask();
  irq_mask();
  if (armed) {
    uint32_t d = raw - board_clock();
    if ((int32_t)d <= 0) goto take;
    REG32(TIMER1 + T_VALUE) = d;
    REG32(TIMER1 + T_CTRL) = T_ENABLE | T_IRQ_ENABLE;
  }
  /* WFI returns on any pending interrupt, masked or not: one that came after the caller looked
   * for work wakes us at once. The handlers run when the mask lifts below. */
  __asm volatile("dsb\n wfi" ::: "memory");
take:
  irq_unmask();
  REG32(TIMER1 + T_CTRL) = 0;
  if (was) irq_mask();
}

void board_mask_interrupts(void) { irq_mask(); }

/* ---- periodic interrupt: the dual timer (SP804) at 0x40002000, timer 1 ---- */

#define DUAL 0x40002000u
#define D_LOAD 0x00u
#define D_CTRL 0x08u
#define D_INTCLR 0x0Cu
#define D_ENABLE 0x80u
#define D_PERIODIC 0x40u
#define D_IRQ_ENABLE 0x20u
#define D_32BIT 0x02u

__attribute__((weak)) void board_periodic_handler(void) {}

void DUALTIMER_Handler(void) {
  REG32(DUAL + D_INTCLR) = 1;
  board_periodic_handler();
}

void board_start_periodic(uint32_t ticks) {
  REG32(DUAL + D_CTRL) = 0;
  if (ticks == 0) return;
  REG32(DUAL + D_LOAD) = ticks;
  REG32(DUAL + D_CTRL) = D_ENABLE | D_PERIODIC | D_IRQ_ENABLE | D_32BIT;
  REG32(NVIC_ISER0) = 1u << BOARD_IRQ_DUALTIMER;
}

/* ---- console ---- */

void board_console(const char* text) {
  while (*text) uart_put(UART1, (uint8_t)*text++);
  uart_put(UART1, '\n');
}

void board_console_u32(const char* label, uint32_t value) {
  char buf[64];
  uint32_t n = 0;
  while (*label && n < 40) buf[n++] = *label++;
  buf[n++] = ' ';
  buf[n++] = '0';
  buf[n++] = 'x';
  for (int s = 28; s >= 0; s -= 4) buf[n++] = "0123456789abcdef"[(value >> s) & 15];
  buf[n] = 0;
  board_console(buf);
}

/* ---- start-up and exit ---- */

void board_init(void) {
  if (boot_magic != BOOT_MAGIC) {
    boot_magic = BOOT_MAGIC;
    boot_count = 0;
  }
  boot_count++;
  /* The clock: TIMER0 free-running from 0xFFFFFFFF, no interrupt (the core extends wraps). */
  REG32(TIMER0 + T_CTRL) = 0;
  REG32(TIMER0 + T_RELOAD) = 0xFFFFFFFFu;
  REG32(TIMER0 + T_VALUE) = 0xFFFFFFFFu;
  REG32(TIMER0 + T_CTRL) = T_ENABLE;
  REG32(TIMER1 + T_CTRL) = 0;
  REG32(TIMER1 + T_RELOAD) = 0xFFFFFFFFu;
  /* UARTs: QEMU drops output unless TX is enabled and BAUDDIV >= 16. */
  REG32(UART1 + U_BAUDDIV) = 16;
  REG32(UART1 + U_CTRL) = U_TX_EN;
  REG32(UART0 + U_BAUDDIV) = 16;
  REG32(UART0 + U_CTRL) = U_TX_EN | U_RX_EN | U_RX_IRQ_EN;
  REG32(NVIC_ISER0) = (1u << BOARD_IRQ_UART0_RX) | (1u << BOARD_IRQ_TIMER1);
}

void board_exit(int code) {
  /* SYS_EXIT_EXTENDED: QEMU exits with `code`. */
  static volatile uint32_t block[2];
  block[0] = 0x20026u; /* ADP_Stopped_ApplicationExit */
  block[1] = (uint32_t)code;
  register uint32_t r0 __asm("r0") = 0x20u;
  register volatile uint32_t* r1 __asm("r1") = block;
  __asm volatile("bkpt 0xab" : : "r"(r0), "r"(r1) : "memory");
  for (;;) __asm volatile("wfi");
}

void board_fatal(const char* what) {
  board_console(what);
  board_exit(70);
}
