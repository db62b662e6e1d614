/* taskscope's freestanding wasm2c runtime: replaces wasm2c's wasm-rt-impl.c, which needs an
 * operating system (mmap, signals, malloc), on a microcontroller. Everything is static: one linear
 * memory (taskscope_lm, see wasm-rt-static.h for the masked addressing that keeps the core inside
 * it), a small pool for function tables and a table of function signatures. A trap is reported
 * through taskscope_port_trap, which the firmware implements (e.g. a line on a UART, then halt).
 *
 * Build flags this file and the generated core are compiled with (npm run build:mcu):
 *   -I/usr/src/wasm2c                       wasm2c's wasm-rt.h (Debian package wabt)
 *   -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=1     no per-access bounds check: the mask replaces it
 *   -DWASM_RT_SKIP_SIGNAL_RECOVERY=1        ... without the signal handler a 64-bit host would use
 *   -DWASM_RT_USE_STACK_DEPTH_COUNT=0       no call-depth counter (the core does not recurse)
 *   -DNDEBUG                                no assert (it pulls in printf and malloc)
 * and with the generated module's directory on the include path (its taskscope-lm.h gives
 * TASKSCOPE_LM_BYTES). */

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include "wasm-rt.h"
#include "wasm-rt-static.h"

#ifdef TASKSCOPE_LM_GUARD
#include <sys/mman.h>

/** Maps the linear memory at its fixed address, with the rest of the reservation inaccessible. */
static void map_guarded(void) {
  void* at = mmap((void*)(uintptr_t)TASKSCOPE_LM_GUARD_ADDR, TASKSCOPE_LM_RESERVED, PROT_NONE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (at != (void*)(uintptr_t)TASKSCOPE_LM_GUARD_ADDR) taskscope_port_trap("taskscope runtime: cannot reserve the guarded linear memory");
  if (mprotect(at, TASKSCOPE_LM_BYTES, PROT_READ | PROT_WRITE) != 0) taskscope_port_trap("taskscope runtime: cannot map the linear memory");
}
#else
uint8_t taskscope_lm[TASKSCOPE_LM_BYTES + TASKSCOPE_LM_SLACK] __attribute__((aligned(8)));
#endif

static bool initialized;

void wasm_rt_init(void) { initialized = true; }
bool wasm_rt_is_initialized(void) { return initialized; }
void wasm_rt_free(void) {}

const char* wasm_rt_strerror(wasm_rt_trap_t trap) {
  switch (trap) {
    case WASM_RT_TRAP_OOB: return "taskscope core trap: out-of-bounds access";
    case WASM_RT_TRAP_INT_OVERFLOW: return "taskscope core trap: integer overflow";
    case WASM_RT_TRAP_DIV_BY_ZERO: return "taskscope core trap: division by zero";
    case WASM_RT_TRAP_INVALID_CONVERSION: return "taskscope core trap: invalid conversion";
    case WASM_RT_TRAP_UNREACHABLE: return "taskscope core trap: unreachable (an abort in the AssemblyScript code)";
    case WASM_RT_TRAP_CALL_INDIRECT: return "taskscope core trap: bad indirect call";
    case WASM_RT_TRAP_EXHAUSTION: return "taskscope core trap: call stack exhausted";
    default: return "taskscope core trap";
  }
}

void wasm_rt_trap(wasm_rt_trap_t trap) { taskscope_port_trap(wasm_rt_strerror(trap)); }

/* ---- function signatures: the same signature always gets the same id (call_indirect checks it) */

#define MAX_FUNC_TYPES 48
#define MAX_TYPE_VALUES 12
static struct {
  uint8_t params, results;
  uint8_t types[MAX_TYPE_VALUES];
} func_types[MAX_FUNC_TYPES];
static uint32_t func_type_count;

uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
  uint8_t types[MAX_TYPE_VALUES];
  if (params + results > MAX_TYPE_VALUES) taskscope_port_trap("taskscope runtime: function signature too long");
  va_list ap;
  va_start(ap, results);
  for (uint32_t i = 0; i < params + results; i++) types[i] = (uint8_t)va_arg(ap, int);
  va_end(ap);
  for (uint32_t id = 0; id < func_type_count; id++) {
    if (func_types[id].params == params && func_types[id].results == results &&
        memcmp(func_types[id].types, types, params + results) == 0)
      return id;
  }
  if (func_type_count == MAX_FUNC_TYPES) taskscope_port_trap("taskscope runtime: too many function signatures");
  func_types[func_type_count].params = (uint8_t)params;
  func_types[func_type_count].results = (uint8_t)results;
  memcpy(func_types[func_type_count].types, types, params + results);
  return func_type_count++;
}

/* ---- linear memory: the static array; `size` is its real size, which may be less than the
 * module's page count says (a 64 KiB page does not fit a small part): bulk operations are
 * range-checked against it, and growing is refused beyond it. */

void wasm_rt_allocate_memory(wasm_rt_memory_t* mem, uint32_t initial_pages, uint32_t max_pages) {
#ifdef TASKSCOPE_LM_GUARD
  static int mapped;
  if (!mapped) map_guarded();
  mapped = 1;
#endif
  memset(taskscope_lm, 0, TASKSCOPE_LM_BYTES);
  mem->data = taskscope_lm;
  mem->pages = initial_pages;
  mem->max_pages = max_pages;
  mem->size = TASKSCOPE_LM_BYTES;
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t* mem, uint32_t delta) {
  uint32_t old = mem->pages;
  if (delta > mem->max_pages - old || (uint64_t)(old + delta) * 65536u > TASKSCOPE_LM_BYTES) return (uint32_t)-1;
  mem->pages = old + delta;
  return old;
}

void wasm_rt_free_memory(wasm_rt_memory_t* mem) { (void)mem; }

/* ---- function tables (AssemblyScript's virtual calls): a static pool ---- */

#define TABLE_POOL 256
static wasm_rt_funcref_t table_pool[TABLE_POOL];
static uint32_t table_used;

void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t* table, uint32_t elements, uint32_t max_elements) {
  if (elements > TABLE_POOL - table_used) taskscope_port_trap("taskscope runtime: function table pool too small");
  table->data = &table_pool[table_used];
  table_used += elements;
  for (uint32_t i = 0; i < elements; i++) table->data[i] = wasm_rt_funcref_null_value;
  table->size = elements;
  table->max_size = elements < max_elements ? elements : max_elements; /* no growth */
}

void wasm_rt_free_funcref_table(wasm_rt_funcref_table_t* table) { (void)table; }
