import http from "node:http";

/**
 * The baseline for `bench serve`: a bare Node HTTP server that reads each request's body and answers
 * with fixed bytes (a real response of tenantdb's), so the difference is what tenantdb does per request.
 * Prints its port on the first line.
 */
const body = Buffer.from(process.argv[2] as string);
const server = http.createServer((req, res) => {
  req.on("data", () => {});
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address() as { port: number };
  process.stdout.write(`${address.port}\n`);
});
