// Wire-format constants. docs/FORMAT.md is the source of truth; test/spec-core.test.ts checks
// these values (exported as wasm globals by the test build) against its tables.

export const FORMAT_VERSION: u8 = 2;

// Record types (table `record-types`)
export const REC_INFO: u8 = 0x01;
export const REC_NAMES: u8 = 0x02;
export const REC_CHUNK: u8 = 0x03;
export const REC_COUNTERS: u8 = 0x04;
export const RECORD_HEADER_BYTES: i32 = 3;
export const INFO_FIXED_BYTES: i32 = 32;
export const COUNTERS_BYTES: i32 = 80;
export const CHUNK_HEADER_BYTES: i32 = 12;

// Name kinds (table `name-kinds`)
export const NAME_TASK: u8 = 1;
export const NAME_SITE: u8 = 2;
export const NAME_RESOURCE: u8 = 3;
export const NAME_FORMAT: u8 = 4;
export const NAME_MARK: u8 = 5;
export const NAME_COUNTER: u8 = 6;
export const NAME_FLOW: u8 = 7;

// Event tags (table `events`)
export const TAG_SPAWN: u8 = 0x01;
export const TAG_POLL_BEGIN: u8 = 0x02;
export const TAG_POLL_READY: u8 = 0x03;
export const TAG_POLL_PENDING: u8 = 0x04;
export const TAG_WAKE_TASK: u8 = 0x05;
export const TAG_WAKE_SELF: u8 = 0x06;
export const TAG_WAKE_IRQ: u8 = 0x07;
export const TAG_WAKE_EXT: u8 = 0x08;
export const TAG_WAKER_CLONE: u8 = 0x09;
export const TAG_WAKER_DROP: u8 = 0x0a;
export const TAG_TASK_DONE: u8 = 0x0b;
export const TAG_TASK_CANCEL: u8 = 0x0c;
export const TAG_AWAIT: u8 = 0x0d;
export const TAG_RES_CREATE: u8 = 0x0e;
export const TAG_RES_OP: u8 = 0x0f;
export const TAG_RES_DROP: u8 = 0x10;
export const TAG_FLOW_BEGIN: u8 = 0x11;
export const TAG_FLOW_END: u8 = 0x12;
export const TAG_FLOW_ENTER: u8 = 0x13;
export const TAG_LOG: u8 = 0x14;
export const TAG_MARK: u8 = 0x15;
export const TAG_COUNTER: u8 = 0x16;
export const TAG_MEM: u8 = 0x17;
export const TAG_IDLE_BEGIN: u8 = 0x18;
export const TAG_IDLE_END: u8 = 0x19;
export const TAG_ISR_ENTER: u8 = 0x1a;
export const TAG_ISR_EXIT: u8 = 0x1b;
export const TAG_TIMER_ARM: u8 = 0x1c;
export const TAG_TIMER_FIRE: u8 = 0x1d;

// Compact forms (table `compact-events`): one wire event that stands for the events it expands to.
export const TAG_WAKER_CLONE_CURRENT: u8 = 0x20;
export const TAG_WAKE_TASK_DROP: u8 = 0x21;
export const TAG_WAKE_SELF_DROP: u8 = 0x22;
export const TAG_WAKE_IRQ_DROP: u8 = 0x23;
export const TAG_WAKE_EXT_DROP: u8 = 0x24;
export const TAG_TIMER_FIRE_WAKE: u8 = 0x25;
export const TAG_AWAIT_SAME: u8 = 0x26;
export const TAG_AWAIT_PENDING: u8 = 0x27;
export const TAG_AWAIT_SAME_PENDING: u8 = 0x28;
/** A wake tag plus this is the same wake consuming the waker (WAKE_* + WAKER_DROP). */
export const WAKE_DROP_OFFSET: u8 = 0x1c;

// Resource kinds, ops, outcomes
export const RES_CHANNEL: u8 = 0;
export const RES_MUTEX: u8 = 1;
export const RES_TIMER: u8 = 2;
export const RES_IO: u8 = 3;
export const OP_SEND: u8 = 0;
export const OP_RECV: u8 = 1;
export const OP_ACQUIRE: u8 = 2;
export const OP_RELEASE: u8 = 3;
export const OUTCOME_OK: u8 = 0;
export const OUTCOME_BLOCKED: u8 = 1;
export const OUTCOME_UNBLOCKED: u8 = 2;

// Filter categories (table `categories`): bit masks
export const CAT_TASK: u32 = 1 << 0;
export const CAT_POLL: u32 = 1 << 1;
export const CAT_WAKE: u32 = 1 << 2;
export const CAT_AWAIT: u32 = 1 << 3;
export const CAT_RESOURCE: u32 = 1 << 4;
export const CAT_FLOW: u32 = 1 << 5;
export const CAT_LOG: u32 = 1 << 6;
export const CAT_MARK: u32 = 1 << 7;
export const CAT_MEM: u32 = 1 << 8;
export const CAT_IDLE: u32 = 1 << 9;
export const CAT_ISR: u32 = 1 << 10;
export const CAT_TIMER: u32 = 1 << 11;
export const CAT_ALL: u32 = (1 << 12) - 1;

// Ring modes
export const MODE_OVERWRITE: u8 = 0;
export const MODE_STOP: u8 = 1;

/** Largest encoded event: LOG with 8 arguments (tag + dt + format + meta + 8 zigzag i64). */
export const MAX_EVENT_BYTES: i32 = 1 + 10 + 5 + 1 + 8 * 10;
