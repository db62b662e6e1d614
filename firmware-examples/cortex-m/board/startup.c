/* Start-up for the Cortex-M3 on mps2-an385: the vector table (at address 0, where the linker
 * script puts .vectors), the reset handler (copies .data, clears .bss, calls main) and fault
 * handlers that say what happened on the console before stopping. */

#include <stdint.h>
#include <string.h>
#include "board.h"

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __stack_top;
int main(void);

void Reset_Handler(void) {
  memcpy(&__data_start, &__data_load, (uintptr_t)&__data_end - (uintptr_t)&__data_start);
  memset(&__bss_start, 0, (uintptr_t)&__bss_end - (uintptr_t)&__bss_start);
  board_exit(main());
}

static void fault(const char* what) {
  uint32_t cfsr = REG32(0xE000ED28u), hfsr = REG32(0xE000ED2Cu);
  board_console(what);
  board_console_u32("  CFSR", cfsr);
  board_console_u32("  HFSR", hfsr);
  board_fatal("fault");
}

void NMI_Handler(void) { fault("fault: NMI"); }
void HardFault_Handler(void) { fault("fault: HardFault"); }
void MemManage_Handler(void) { fault("fault: MemManage"); }
void BusFault_Handler(void) { fault("fault: BusFault"); }
void UsageFault_Handler(void) { fault("fault: UsageFault"); }
void Default_Handler(void) { fault("fault: unexpected interrupt"); }

#define WEAK_IRQ(name) void name(void) __attribute__((weak, alias("Default_Handler")))
WEAK_IRQ(SVC_Handler);
WEAK_IRQ(PendSV_Handler);
WEAK_IRQ(SysTick_Handler);
WEAK_IRQ(UART0RX_Handler);
WEAK_IRQ(UART1RX_Handler);
WEAK_IRQ(TIMER0_Handler);
WEAK_IRQ(TIMER1_Handler);
WEAK_IRQ(DUALTIMER_Handler);

typedef void (*vector_t)(void);

__attribute__((section(".vectors"), used)) static const vector_t vectors[16 + 16] = {
    (vector_t)(uintptr_t)&__stack_top,
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
    0, 0, 0, 0,
    SVC_Handler,
    0,
    0,
    PendSV_Handler,
    SysTick_Handler,
    /* external interrupts 0..15 */
    [16 + 0] = UART0RX_Handler,
    [16 + 1] = Default_Handler,
    [16 + 2] = UART1RX_Handler,
    [16 + 3] = Default_Handler,
    [16 + 4] = Default_Handler,
    [16 + 5] = Default_Handler,
    [16 + 6] = Default_Handler,
    [16 + 7] = Default_Handler,
    [16 + 8] = TIMER0_Handler,
    [16 + 9] = TIMER1_Handler,
    [16 + 10] = DUALTIMER_Handler,
    [16 + 11] = Default_Handler,
    [16 + 12] = Default_Handler,
    [16 + 13] = Default_Handler,
    [16 + 14] = Default_Handler,
    [16 + 15] = Default_Handler,
};
