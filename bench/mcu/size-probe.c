/* Links every taskscope.h function a firmware may call (bench/mcu.ts reads what the core's
 * objects add to .text and RAM): the recording vocabulary, names, start-up and drain, and, with
 * -DWITH_LINK, the serial link. Never run. */

#include "board.h"
#include "taskscope.h"

void taskscope_port_trap(const char* message) { board_fatal(message); }

static const void* const everything[] = {
    (const void*)taskscope_init, (const void*)taskscope_task_name, (const void*)taskscope_site_name,
    (const void*)taskscope_resource_name, (const void*)taskscope_log_format, (const void*)taskscope_mark_name,
    (const void*)taskscope_counter_name, (const void*)taskscope_flow_name, (const void*)taskscope_task_spawn,
    (const void*)taskscope_poll_begin, (const void*)taskscope_poll_end, (const void*)taskscope_task_end,
    (const void*)taskscope_wake, (const void*)taskscope_wake_by_task, (const void*)taskscope_wake_by_irq,
    (const void*)taskscope_wake_external, (const void*)taskscope_wake_and_drop, (const void*)taskscope_wake_by_task_and_drop,
    (const void*)taskscope_waker_clone, (const void*)taskscope_waker_drop, (const void*)taskscope_await,
    (const void*)taskscope_resource_create, (const void*)taskscope_resource_op, (const void*)taskscope_resource_drop,
    (const void*)taskscope_timer_arm, (const void*)taskscope_timer_fire, (const void*)taskscope_timer_fire_wake,
    (const void*)taskscope_flow_begin, (const void*)taskscope_flow_end, (const void*)taskscope_flow_enter,
    (const void*)taskscope_flow_enter_task, (const void*)taskscope_current_flow, (const void*)taskscope_log0,
    (const void*)taskscope_log1, (const void*)taskscope_log2, (const void*)taskscope_log3, (const void*)taskscope_log4,
    (const void*)taskscope_mark, (const void*)taskscope_counter, (const void*)taskscope_mem_sample,
    (const void*)taskscope_idle_begin, (const void*)taskscope_idle_end, (const void*)taskscope_isr_enter,
    (const void*)taskscope_isr_exit, (const void*)taskscope_now, (const void*)taskscope_tick_hz,
    (const void*)taskscope_set_filter, (const void*)taskscope_filter, (const void*)taskscope_events_recorded,
    (const void*)taskscope_hidden_ticks, (const void*)taskscope_flush, (const void*)taskscope_drain,
    (const void*)taskscope_min_drain_bytes, (const void*)taskscope_pending,
#ifdef WITH_LINK
    (const void*)taskscope_link_receive, (const void*)taskscope_link_service,
#endif
};

int main(void) {
  board_init();
  const void* const volatile* keep = everything; /* referenced: the linker keeps every function */
  return keep[0] == 0;
}
