import net from "node:net";

/**
 * A load generator that costs little per request, run as its own process: raw keep-alive sockets, the
 * requests' bytes built once, responses read only as far as their Content-Length. Usage (standard input, JSON):
 * `{ port, requests: string[] (whole HTTP requests), connections, durationMs }`; prints
 * `{ completed, failed, p99Ms }`: completed counts only requests answered 200 without an error result.
 */

interface Job {
  port: number;
  requests: string[];
  connections: number;
  durationMs: number;
}

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const job = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Job;
const payloads = job.requests.map((r) => Buffer.from(r));
const latencies: number[] = [];
const ERROR_RESULT = Buffer.from('"type":"error"');
let completed = 0;
let failed = 0;
const stopAt = performance.now() + job.durationMs;

function connection(offset: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(job.port, "127.0.0.1");
    socket.setNoDelay(true);
    let next = offset;
    let sentAt = 0;
    let buffered: Buffer = Buffer.alloc(0);
    const send = () => {
      if (performance.now() >= stopAt) {
        socket.end();
        resolve();
        return;
      }
      sentAt = performance.now();
      socket.write(payloads[next++ % payloads.length] as Buffer);
    };
    socket.on("connect", send);
    socket.on("data", (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      for (;;) {
        const end = buffered.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buffered.subarray(0, end).toString("latin1");
        const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        // A Hrana statement that failed still answers 200, with an error result inside.
        const body = buffered.subarray(end + 4, end + 4 + length);
        if (!head.startsWith("HTTP/1.1 200") || body.includes(ERROR_RESULT)) failed++;
        else completed++;
        buffered = buffered.subarray(end + 4 + length);
        latencies.push(performance.now() - sentAt);
        send();
      }
    });
    socket.on("error", () => {
      failed++;
      resolve();
    });
  });
}

await Promise.all(Array.from({ length: job.connections }, (_, i) => connection(i * 7919)));
latencies.sort((a, b) => a - b);
const p99Ms = latencies[Math.floor(latencies.length * 0.99)] ?? 0;
process.stdout.write(`${JSON.stringify({ completed, failed, p99Ms })}\n`);
