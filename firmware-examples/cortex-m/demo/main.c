/* The AssemblyScript demo on mps2-an385: starts the board, instantiates the demo module (main.ts,
 * turned into C by wasm2c as demo.c) and supplies its imports: the clock (TIMER0), the link's byte
 * writer (UART0), the idle hook that services the link and sleeps, and console.log (UART1).
 *
 * Interrupts: the executor runs with interrupts masked and takes them only while it idles (in
 * board_sleep_until), so an interrupt handler never lands inside a recording call or inside the
 * link's own work, and may record (TIMER1, the idle wake-up, is recorded as an ISR) and feed the
 * link directly. The link's receive interrupt is the observer's own and is not recorded. */

#include "board.h"
#include "wasm-rt-static.h"
#include "demo.h"

static Z_demo_instance_t demo;
static int started;

void taskscope_port_trap(const char* message) { board_fatal(message); }

/* ---- the module's imports ---- */

u32 Z_taskscopeZ_clock(struct Z_taskscope_instance_t* unused) {
  (void)unused;
  return board_clock();
}

void Z_taskscopeZ_link_write(struct Z_taskscope_instance_t* unused, u32 ptr, u32 len) {
  (void)unused;
  board_link_write(taskscope_lm_bytes(ptr, len), len);
}

u32 Z_boardZ_scenario(struct Z_board_instance_t* unused) {
  (void)unused;
  return board_param(0);
}

u32 Z_boardZ_boot_count(struct Z_board_instance_t* unused) {
  (void)unused;
  return board_boot_count();
}

void Z_boardZ_done(struct Z_board_instance_t* unused, u32 code, u64 recorded) {
  (void)unused;
  board_console_u32("demo: scenario done, exit code", code);
  board_console_u32("demo: events recorded", (uint32_t)recorded);
}

/** Frames the link may send per idle turn: enough to keep the UART busy, few enough that a due
 *  timer is not held up for long. */
#define FRAMES_PER_TURN 16

void Z_boardZ_idle(struct Z_board_instance_t* unused, u64 ticks) {
  (void)unused;
  int more = 0;
  for (int i = 0; i < FRAMES_PER_TURN && (more = Z_demoZ_taskscope_link_service(&demo)); i++) {
  }
  if (more) return; /* the executor looks at its clock, then the link gets another turn */
  if (ticks == UINT64_MAX) {
    /* Nothing scheduled any more (the scenario is over): wait for the host alone. Nothing is
     * recorded from here on, so a clock wrap unseen while waiting cannot misplace an event. */
    board_sleep_until(0, 0);
    return;
  }
  /* Sleep until the deadline, at most 10 s (the clock must be read at least once per 171 s wrap;
   * servicing the link reads it). */
  const uint64_t cap = 10ull * BOARD_CLOCK_HZ;
  board_sleep_until(board_clock() + (uint32_t)(ticks < cap ? ticks : cap), 1);
}

/* AssemblyScript strings: UTF-16LE, the byte length in the u32 just before the pointer. */
void Z_envZ_consoleZ2Elog(struct Z_env_instance_t* unused, u32 str) {
  (void)unused;
  char line[128];
  uint32_t bytes = str >= 4 && str <= TASKSCOPE_LM_BYTES ? *(uint32_t*)&taskscope_lm[str - 4] : 0;
  uint32_t n = 0;
  for (uint32_t i = 0; i + 1 < bytes && n + 1 < sizeof line && str + i + 1 < TASKSCOPE_LM_BYTES; i += 2) {
    uint16_t c = (uint16_t)(taskscope_lm[str + i] | taskscope_lm[str + i + 1] << 8);
    line[n++] = c < 0x80 ? (char)c : '?';
  }
  line[n] = 0;
  board_console(line);
}

/* ---- interrupts (taken only while idle) ---- */

void board_isr_enter(uint32_t irq) {
  if (started && irq == BOARD_IRQ_TIMER1) Z_demoZ_isr_enter(&demo, irq);
}

void board_isr_exit(uint32_t irq) {
  if (started && irq == BOARD_IRQ_TIMER1) Z_demoZ_isr_exit(&demo, irq);
}

void board_link_received(const uint8_t* bytes, uint32_t n) {
  if (started) TASKSCOPE_LINK_FEED(demo, &demo, bytes, n);
}

int main(void) {
  board_init();
  board_mask_interrupts();
  wasm_rt_init();
  Z_demo_init_module();
  Z_demo_instantiate(&demo, 0, 0, 0); /* runs the module's start: names are interned here */
  if (Z_demoZ_static_end(&demo) > TASKSCOPE_LM_BYTES) board_fatal("demo: static memory exceeds TASKSCOPE_LM_BYTES");
  started = 1;
  board_console_u32("demo: boot", board_boot_count());
  Z_demoZ_main(&demo); /* never returns */
  return 0;
}
