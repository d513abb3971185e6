import type http from "node:http";
import { STATUS_CODES } from "node:http";
import net from "node:net";
import { performance } from "node:perf_hooks";
import { type Answer, logLine } from "./app.js";
import type { ClientGone, Incoming, Outgoing } from "./http.js";
import { createHeadMemo, type Head, headerOf } from "./request-head.js";

/**
 * The server's front door: a lean reader of HTTP/1.1 for the requests clients send almost always — a
 * request line, plain headers, a body of declared length — which costs a little less than node:http's
 * request and response streams, and above all lets answers leave together at the end of a turn (see
 * flush), which node:http cannot. The first request on a connection that steps outside that subset (chunked bodies, `Expect`, `Upgrade`, HEAD,
 * obsolete or duplicate headers, oversized heads or bodies, anything malformed) hands the connection, its
 * unread bytes included, to node:http, which answers it and every later request on it in full — errors
 * included. So this never has to answer anything unusual, and never answers differently.
 *
 * One request at a time per connection: the next is read once the previous one is answered (its answer
 * queued behind it), which keeps pipelined answers in order.
 */

export interface FrontOptions {
  answer: Answer;
  /** node:http, never listening itself: connections handed over are emitted to it. */
  fallback: http.Server;
  maxBodyBytes: number;
  /** An idle connection (or one slow to send its request) is closed after this long, or up to twice it. */
  idleMs: number;
  logRequest(line: string): void;
  /** Called after each answer: the server's shutdown waits for the last one. */
  onAnswered(): void;
}

export interface Front {
  server: net.Server;
  /** Connections answering a request now. */
  busy(): number;
  /** Closes idle connections, and each busy one once it has answered. */
  closeIdle(): void;
  closeAll(): void;
}

/** A request head larger than this goes to node:http, which refuses it (431). */
const MAX_HEAD_BYTES = 16 * 1024;

interface Connection {
  socket: net.Socket;
  /** Something arrived, or was answered, since the last sweep (see createFront). */
  active: boolean;
  /** Answering a request now. */
  busy: boolean;
  /** Answers given but not yet written (see flush). */
  queued: number;
  onFlushed(): void;
}

export function createFront(opts: FrontOptions): Front {
  const connections = new Map<net.Socket, Connection>();
  let closing = false;

  /**
   * Answers leave together at the end of the event loop's turn, one write each. Written one by one as
   * they are ready, each would wake the client's process apart; in a burst, the first wakes it and the
   * rest find it running — on a VM, a wake-up costs the writer more than the rest of a small request.
   */
  let outbox: { connection: Connection; bytes: string; close: boolean }[] = [];
  const flush = () => {
    const leaving = outbox;
    outbox = [];
    for (const { connection, bytes, close } of leaving) {
      connection.queued--;
      const { socket } = connection;
      if (socket.destroyed) continue;
      socket.write(bytes);
      if (close || (closing && !connection.busy && connection.queued === 0)) socket.end();
      else if (connection.queued === 0) connection.onFlushed();
    }
    opts.onAnswered();
  };
  const send = (connection: Connection, bytes: string, close: boolean) => {
    if (outbox.length === 0) setImmediate(flush);
    connection.queued++;
    outbox.push({ connection, bytes, close });
  };

  const server = net.createServer((socket) => {
    const state: Connection = { socket, active: true, busy: false, queued: 0, onFlushed: () => {} };
    connections.set(socket, state);
    socket.setNoDelay(true);
    // What has arrived and is not read yet, in the chunks it came in (joined only when a request can be
    // read from them), and how many bytes the request being read needs in all.
    let chunks: Buffer[] = [];
    let size = 0;
    let needed = 0;
    // The head is incomplete: only a chunk with a line feed in it can complete it.
    let headPending = false;
    let gone: { aborted: boolean } | undefined;
    const heads = createHeadMemo();
    // Once leaving for node:http, it reads nothing more here; it leaves when its answers are out.
    let leaving = false;
    // Paused while a request is answered and a whole request's worth more has already come in.
    let throttled = false;
    state.onFlushed = () => {
      if (leaving) handOver();
    };

    const onData = (chunk: Buffer) => {
      state.active = true;
      chunks.push(chunk);
      size += chunk.length;
      if (state.busy || leaving) {
        if (size > MAX_HEAD_BYTES + opts.maxBodyBytes && !throttled) {
          throttled = true;
          socket.pause();
        }
        return;
      }
      if (size < needed || (headPending && !chunk.includes(0x0a) && size <= MAX_HEAD_BYTES)) return;
      next();
    };
    const onClose = () => {
      connections.delete(socket);
      if (gone) gone.aborted = true;
    };

    const joined = (): Buffer => {
      if (chunks.length > 1) chunks = [Buffer.concat(chunks, size)];
      return chunks[0] as Buffer;
    };

    // Set while next() runs: an answer given at once lets its loop go on, instead of recursing.
    let reading = false;
    let ended = false;

    /** Reads the whole requests that have arrived, one at a time, and answers each. */
    function next(): void {
      if (reading) return;
      reading = true;
      try {
        while (!state.busy && !leaving && !ended && size > 0) {
          const buffered = joined();
          const recalled = heads.recall(buffered);
          let head: Head | undefined;
          let end: number;
          if (recalled) {
            ({ head, end } = recalled);
            headPending = false;
          } else {
            end = buffered.indexOf("\r\n\r\n");
            headPending = end < 0;
            if (end < 0) {
              if (size > MAX_HEAD_BYTES) handOver();
              return;
            }
            head = end <= MAX_HEAD_BYTES ? heads.read(buffered, end) : undefined;
          }
          if (!head || head.length > opts.maxBodyBytes) {
            handOver();
            return;
          }
          const total = end + 4 + head.length;
          if (size < total) {
            needed = total;
            return;
          }
          needed = 0;
          const body = buffered.subarray(end + 4, total);
          chunks = size > total ? [buffered.subarray(total)] : [];
          size -= total;
          state.busy = true;
          gone = { aborted: false };
          respond(head, body, gone);
        }
      } finally {
        reading = false;
      }
    }

    function respond(head: Head, body: Buffer, clientGone: ClientGone): void {
      const started = performance.now();
      const incoming: Incoming = {
        method: head.method,
        target: head.target,
        header: (name) => headerOf(head, name),
        body: () => Promise.resolve(body),
        read: () => body,
        connection: state,
        gone: clientGone,
      };
      const out = opts.answer(incoming);
      if (out instanceof Promise) out.then((o) => answered(incoming, o, started, head.close));
      else answered(incoming, out, started, head.close);
    }

    function answered(incoming: Incoming, out: Outgoing, started: number, askedToClose: boolean): void {
      state.busy = false;
      state.active = true;
      gone = undefined;
      if (socket.destroyed) {
        opts.logRequest(logLine(incoming, undefined, started));
        opts.onAnswered();
        return;
      }
      const close = closing || askedToClose || String(out.headers.connection ?? "").toLowerCase() === "close";
      send(state, serialize(out, close), close);
      opts.logRequest(logLine(incoming, out, started));
      opts.onAnswered();
      if (close) {
        ended = true;
        return;
      }
      if (throttled) {
        throttled = false;
        socket.resume();
      }
      next();
    }

    /**
     * node:http takes the connection from here, once the answers already given are written: whatever is
     * buffered is put back in front of the socket's stream, and it reads from there as if the connection
     * had just come in.
     */
    function handOver(): void {
      leaving = true;
      if (state.queued > 0) return; // flush() calls again
      connections.delete(socket);
      socket.removeListener("data", onData);
      socket.removeListener("close", onClose);
      socket.pause();
      if (size > 0) socket.unshift(joined());
      chunks = [];
      size = 0;
      opts.fallback.emit("connection", socket);
      socket.resume();
    }

    socket.on("data", onData);
    socket.on("close", onClose);
    socket.on("error", () => socket.destroy());
  });

  // Connections idle (or slow to send their request) for a whole sweep's interval are closed: between
  // idleMs and twice that after their last byte. A request being answered is bounded by the statement
  // limit. A timer per socket would do it to the millisecond, but node moves a socket's timer on every
  // read and every write, which a busy server paid for twice a request.
  const sweep = setInterval(() => {
    for (const [socket, state] of connections) {
      if (state.busy || state.queued > 0 || state.active) state.active = false;
      else socket.destroy();
    }
  }, opts.idleMs).unref();
  server.on("close", () => clearInterval(sweep));

  return {
    server,
    busy: () => [...connections.values()].filter((c) => c.busy || c.queued > 0).length,
    closeIdle() {
      closing = true;
      for (const [socket, state] of connections) if (!state.busy && state.queued === 0) socket.destroy();
    },
    closeAll() {
      for (const socket of connections.keys()) socket.destroy();
    },
  };
}

function serialize(out: Outgoing, close: boolean): string {
  let head = `HTTP/1.1 ${out.status} ${STATUS_CODES[out.status] ?? ""}\r\n`;
  for (const name in out.headers) {
    if (name.toLowerCase() !== "connection") head += `${name}: ${out.headers[name]}\r\n`;
  }
  return `${head}connection: ${close ? "close" : "keep-alive"}\r\n\r\n${out.body}`;
}
