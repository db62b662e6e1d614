// The package version, for file headers and --version output.
import { createRequire } from "node:module";

const pkg = createRequire(import.meta.url)("../../../package.json") as { version: string };
export const TOOL_VERSION: string = pkg.version;
