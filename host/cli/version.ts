// The package version, for file headers and --version output.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** package.json from dist/host/cli (the built commands) or host/cli (sources, in tests). */
function packageVersion(): string {
  for (const path of ["../../../package.json", "../../package.json"]) {
    try {
      const pkg = require(path) as { name?: string; version: string };
      if (pkg.name === "taskscope") return pkg.version;
    } catch {
      // not at this depth
    }
  }
  return "unknown";
}

export const TOOL_VERSION: string = packageVersion();
