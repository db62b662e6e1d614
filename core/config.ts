// Compile-time sizes of the static storage. Override any of them at build time with
// `asc --use TASKSCOPE_CHUNK_COUNT=128` (etc.); nothing is sized at run time.

/** Bytes per ring chunk (>= 128: the largest event is 97 bytes, see docs/FORMAT.md). */
// @ts-ignore: compile-time constant supplied by --use
export const CHUNK_SIZE: i32 = isDefined(TASKSCOPE_CHUNK_SIZE) ? TASKSCOPE_CHUNK_SIZE : 256;
/** Chunks in the ring (>= 2). Ring bytes = CHUNK_SIZE * CHUNK_COUNT. */
// @ts-ignore: compile-time constant supplied by --use
export const CHUNK_COUNT: i32 = isDefined(TASKSCOPE_CHUNK_COUNT) ? TASKSCOPE_CHUNK_COUNT : 64;
/** Bytes of the names table (task names, await sites, resources, log formats). */
// @ts-ignore: compile-time constant supplied by --use
export const NAMES_BYTES: i32 = isDefined(TASKSCOPE_NAMES_BYTES) ? TASKSCOPE_NAMES_BYTES : 4096;
/** Task ids below this get flow (request) tracking: one u32 per task. */
// @ts-ignore: compile-time constant supplied by --use
export const MAX_TASKS: i32 = isDefined(TASKSCOPE_MAX_TASKS) ? TASKSCOPE_MAX_TASKS : 256;
/** Bytes of the built-in transfer buffer that hosts without their own buffer drain into (0: none,
 *  for firmware that only uses the serial link). */
// @ts-ignore: compile-time constant supplied by --use
export const TRANSFER_BYTES: i32 = isDefined(TASKSCOPE_TRANSFER_BYTES) ? TASKSCOPE_TRANSFER_BYTES : 4096;

/** Bytes the serial link's receive buffer takes at once (link-host.ts; a caller loops). */
// @ts-ignore: compile-time constant supplied by --use
export const LINK_RX_BYTES: i32 = isDefined(TASKSCOPE_LINK_RX_BYTES) ? TASKSCOPE_LINK_RX_BYTES : 256;

// Checked at compile time so a bad --use fails the build instead of corrupting memory. (ERROR, not
// assert: device builds use --noAssert, which would compile an assert away.)
// @ts-ignore: compile-time error
if (CHUNK_SIZE < 128 || CHUNK_SIZE > 65535) ERROR("TASKSCOPE_CHUNK_SIZE must be 128..65535");
// @ts-ignore: compile-time error
if (CHUNK_COUNT < 2) ERROR("TASKSCOPE_CHUNK_COUNT must be >= 2");
// @ts-ignore: compile-time error
if (NAMES_BYTES < 2 || MAX_TASKS < 1) ERROR("TASKSCOPE_NAMES_BYTES and TASKSCOPE_MAX_TASKS must be positive");
