// The core harness (test/wasm/core-harness.ts: every event function, names, a mixed workload)
// with the serial link's host interface added: test/link-core.test.ts drives the device side of
// the link from JavaScript, feeding command frames in and decoding the frames that come out.

export * from "../../test/wasm/core-harness";
export * from "../../core/link-host";
// The link's constants as wasm globals, for test/link-spec.test.ts (docs/FORMAT.md section 7).
export {
  LINK_VERSION, FRAME_HEADER_BYTES, FRAME_CRC_BYTES, RX_FRAME_MAX, DUMP_ALL,
  CMD_HELLO, CMD_DUMP, CMD_STREAM, CMD_FILTER, CMD_CLEAR, CMD_STATUS, CMD_ACK,
  FRAME_HELLO, FRAME_RECORDS, FRAME_STATUS, RESULT_OK, RESULT_WRONG_SESSION, RESULT_BAD_COMMAND,
} from "../../core/link";
