// OpenTelemetry packages loaded when first needed, not at start-up: loading them takes a few
// hundred ms of a command's run (more than the rest of a small export), and a protobuf file
// export needs none of them (encode.ts writes the bytes). They are CommonJS, so `require` loads
// them synchronously where they are used.

import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export const otel = {
  core: () => require("@opentelemetry/core") as typeof import("@opentelemetry/core"),
  resources: () => require("@opentelemetry/resources") as typeof import("@opentelemetry/resources"),
  transformer: () => require("@opentelemetry/otlp-transformer") as typeof import("@opentelemetry/otlp-transformer"),
};
