/* taskscope in a C firmware: a super-loop with a small cooperative scheduler, three tasks and an
 * interrupt, on mps2-an385. Nothing here knows the core is wasm underneath: it calls taskscope.h.
 *
 *   sample IRQ (dual timer, every 2 ms) ──wake──> sensor ──queue (4)──> filter
 *                                                 reporter: a 20 ms timer, counters and a log line
 *
 * The sensor parks until the interrupt hands it a sample (the interrupt wakes it: WAKE_IRQ), starts
 * a flow per sample and sends it through a bounded queue; the filter takes it (entering the flow),
 * spends ~150 µs on it and ends the flow. After SAMPLES samples the interrupt stops and the firmware
 * keeps answering the host. The link is serviced from the main loop; received bytes are handed to
 * the core from the UART interrupt (taskscope calls are interrupt-safe through the port's lock). */

#include <stdint.h>
#include "board.h"
#include "taskscope.h"

#ifndef SAMPLES
#define SAMPLES 150
#endif
#define SAMPLE_PERIOD (BOARD_CLOCK_HZ / 500) /* 2 ms */
#define REPORT_PERIOD (BOARD_CLOCK_HZ / 50)  /* 20 ms */
#define QUEUE_CAP 4

enum { SENSOR = 1, FILTER = 2, REPORTER = 3, TASKS = 4 };

/* names and resources, interned at start-up */
static uint32_t site_sample, site_send, site_recv, site_report, log_avg, counter_samples, flow_sample;
static uint32_t res_irq, res_queue, res_timer;

/* the scheduler: a ready bit per task; the interrupt sets the sensor's */
static volatile uint32_t ready;
static volatile uint32_t sensor_waker; /* 1 while the interrupt holds the sensor's waker */
static volatile uint32_t samples_in, irq_samples;
static uint32_t done_tasks;

/* the queue between sensor and filter: value and flow of each sample */
static uint32_t q_value[QUEUE_CAP], q_flow[QUEUE_CAP], q_head, q_count;
static uint32_t sender_waits, receiver_waits; /* a parked task's waker, held by the queue */

static uint32_t sensor_sent, filtered, filtered_sum;
static uint64_t report_deadline;
static int report_armed;

static void schedule(uint32_t task) { ready |= 1u << task; }

/* ---- the interrupt ---- */

void board_periodic_handler(void) {
  taskscope_isr_enter(BOARD_IRQ_DUALTIMER);
  irq_samples++;
  samples_in++;
  if (sensor_waker) { /* the waker is used up by the wake */
    sensor_waker = 0;
    taskscope_wake_and_drop(SENSOR);
    schedule(SENSOR);
  }
  if (irq_samples == SAMPLES) board_start_periodic(0);
  taskscope_isr_exit(BOARD_IRQ_DUALTIMER);
}

/* UART0 receive interrupt: the bytes go straight to the link's command decoder. */
void board_link_received(const uint8_t* bytes, uint32_t n) { taskscope_link_receive(bytes, n); }

/* ---- tasks: each poll returns 1 when the task is done, 0 when it parked ---- */

static int sensor_poll(void) {
  for (;;) {
    if (sensor_sent == SAMPLES) return 1;
    if (samples_in == 0) {
      board_mask_interrupts(); /* the interrupt must not slip between the check and the park */
      if (samples_in == 0) {
        sensor_waker = 1;
        taskscope_waker_clone(SENSOR);
        taskscope_await(site_sample, res_irq);
        __asm volatile("cpsie i" ::: "memory");
        return 0;
      }
      __asm volatile("cpsie i" ::: "memory");
    }
    if (q_count == QUEUE_CAP) {
      taskscope_resource_op(res_queue, TASKSCOPE_SEND, TASKSCOPE_BLOCKED, q_count);
      sender_waits = 1;
      taskscope_waker_clone(SENSOR);
      taskscope_await(site_send, res_queue);
      return 0;
    }
    samples_in--;
    uint32_t flow = taskscope_flow_begin(flow_sample);
    uint32_t i = (q_head + q_count) % QUEUE_CAP;
    q_value[i] = (sensor_sent * 37u + 11u) % 1000u;
    q_flow[i] = flow;
    q_count++;
    taskscope_resource_op(res_queue, TASKSCOPE_SEND, TASKSCOPE_OK, q_count);
    sensor_sent++;
    if (receiver_waits) {
      receiver_waits = 0;
      taskscope_wake_and_drop(FILTER);
      schedule(FILTER);
    }
  }
}

static void busy_ticks(uint64_t ticks) {
  uint64_t end = taskscope_now() + ticks;
  while (taskscope_now() < end) {
  }
}

static int filter_poll(void) {
  if (filtered == SAMPLES) return 1;
  if (q_count == 0) {
    taskscope_resource_op(res_queue, TASKSCOPE_RECV, TASKSCOPE_BLOCKED, 0);
    receiver_waits = 1;
    taskscope_waker_clone(FILTER);
    taskscope_await(site_recv, res_queue);
    return 0;
  }
  uint32_t value = q_value[q_head], flow = q_flow[q_head];
  q_head = (q_head + 1) % QUEUE_CAP;
  q_count--;
  taskscope_resource_op(res_queue, TASKSCOPE_RECV, TASKSCOPE_OK, q_count);
  taskscope_flow_enter(flow);
  if (sender_waits) {
    sender_waits = 0;
    taskscope_wake_and_drop(SENSOR);
    schedule(SENSOR);
  }
  busy_ticks(BOARD_CLOCK_HZ / 6667); /* ~150 µs of filtering */
  filtered_sum += value;
  filtered++;
  if (filtered % 16 == 0) taskscope_log1(log_avg, TASKSCOPE_INFO, (int64_t)(filtered_sum / 16));
  if (filtered % 16 == 0) filtered_sum = 0;
  taskscope_flow_end(flow);
  schedule(FILTER); /* more may be queued: come back after the others had a turn */
  taskscope_wake(FILTER); /* a self-wake: by reference, no waker stored */
  taskscope_await(site_recv, res_queue);
  return 0;
}

static int reporter_poll(void) {
  if (filtered == SAMPLES && sensor_sent == SAMPLES) return 1;
  uint64_t now = taskscope_now();
  if (!report_armed) {
    report_deadline = now + REPORT_PERIOD;
    report_armed = 1;
  } else if (now >= report_deadline) {
    taskscope_counter(counter_samples, (int64_t)filtered);
    report_deadline += REPORT_PERIOD;
  }
  taskscope_waker_clone(REPORTER);
  taskscope_timer_arm(res_timer, report_deadline);
  taskscope_await(site_report, res_timer);
  return 0;
}

static int (*const polls[TASKS])(void) = {0, sensor_poll, filter_poll, reporter_poll};

/* ---- the super-loop ---- */

static void service_link(void) {
  for (int i = 0; i < 16 && taskscope_link_service(); i++) {
  }
}

int main(void) {
  board_init();
  taskscope_init(TASKSCOPE_OVERWRITE, BOARD_CLOCK_HZ, "mps2-an385", "taskscope c-superloop 0.1", 0x5c000000u + board_boot_count());
  const uint32_t n_sensor = taskscope_task_name("sensor");
  const uint32_t n_filter = taskscope_task_name("filter");
  const uint32_t n_reporter = taskscope_task_name("reporter");
  site_sample = taskscope_site_name("sensor: wait for a sample");
  site_send = taskscope_site_name("sensor: send sample");
  site_recv = taskscope_site_name("filter: recv sample");
  site_report = taskscope_site_name("reporter: wait tick");
  log_avg = taskscope_log_format("average of the last 16 samples: {}");
  counter_samples = taskscope_counter_name("samples filtered");
  flow_sample = taskscope_flow_name("sample");
  res_irq = taskscope_resource_create(TASKSCOPE_IO, taskscope_resource_name("sample irq"), 1);
  res_queue = taskscope_resource_create(TASKSCOPE_CHANNEL, taskscope_resource_name("samples"), QUEUE_CAP);
  res_timer = taskscope_resource_create(TASKSCOPE_TIMER, taskscope_resource_name("report timer"), 1);
  taskscope_task_spawn(SENSOR, 0, n_sensor);
  taskscope_task_spawn(FILTER, 0, n_filter);
  taskscope_task_spawn(REPORTER, 0, n_reporter);
  schedule(SENSOR);
  schedule(FILTER);
  schedule(REPORTER);
  board_start_periodic(SAMPLE_PERIOD);
  int reported = 0;

  for (;;) {
    service_link();
    if (report_armed && (done_tasks & (1u << REPORTER)) == 0 && taskscope_now() >= report_deadline) {
      /* due: the timer wakes the reporter with the waker it held */
      taskscope_timer_fire_wake(REPORTER, res_timer);
      schedule(REPORTER);
    }
    uint32_t run = ready;
    if (run) {
      for (uint32_t t = 1; t < TASKS; t++) {
        if (!(run & (1u << t))) continue;
        __asm volatile("cpsid i" ::: "memory");
        ready &= ~(1u << t);
        __asm volatile("cpsie i" ::: "memory");
        taskscope_poll_begin(t);
        int finished = polls[t]();
        taskscope_poll_end(finished);
        if (finished) {
          taskscope_task_end(t, 0);
          done_tasks |= 1u << t;
        }
      }
      continue;
    }
    if (done_tasks == ((1u << TASKS) - 2) && !reported) {
      reported = 1;
      board_console_u32("c-superloop: done, events recorded", (uint32_t)taskscope_events_recorded());
    }
    /* Nothing ready: sleep until the reporter's deadline or an interrupt. */
    __asm volatile("cpsid i" ::: "memory");
    if (!ready) {
      uint64_t now = taskscope_now();
      int timed = report_armed && (done_tasks & (1u << REPORTER)) == 0;
      uint64_t wait = timed ? (report_deadline > now ? report_deadline - now : 0) : 10ull * BOARD_CLOCK_HZ;
      if (done_tasks == ((1u << TASKS) - 2)) {
        /* Every task has ended: wait for the host alone, unrecorded (its traffic would otherwise
         * fill the trace with idle pairs; with nothing recorded, a clock wrap unseen meanwhile
         * cannot misplace an event). */
        board_sleep_until(0, 0);
      } else if (wait > 0) {
        taskscope_idle_begin();
        board_sleep_until(board_clock() + (uint32_t)(wait < 10ull * BOARD_CLOCK_HZ ? wait : 10ull * BOARD_CLOCK_HZ), 1);
        taskscope_idle_end();
      }
    }
    __asm volatile("cpsie i" ::: "memory");
  }
}

void taskscope_port_trap(const char* message) { board_fatal(message); }
