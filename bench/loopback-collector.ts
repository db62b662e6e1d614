// An OTLP/HTTP receiver for the bench, in its own process (the measured one only sends): takes
// every request, answers 200 with an empty ExportTraceServiceResponse, and tells its parent the
// port it listens on.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/x-protobuf" });
    res.end();
  });
});
server.listen(0, "127.0.0.1", () => process.send!((server.address() as AddressInfo).port));
process.on("disconnect", () => process.exit(0));
