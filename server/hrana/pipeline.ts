import { isExpected } from "../http-errors.js";
import { runBatch } from "./batch.js";
import { RequestError, toHranaError } from "./errors.js";
import { executeStmt, resolveSql, storeSql } from "./execute.js";
import type { ProtocolVersion, StreamRequest, StreamResponse, StreamResult } from "./protocol.js";
import type { SessionStream as Stream } from "./session-stream.js";

/**
 * Runs a pipeline's requests on one stream, in order. Every request is executed and answered in its own
 * slot, whatever happened to the ones before it; only a closed stream stops the rest.
 */
export async function runPipeline(
  stream: Stream,
  requests: readonly StreamRequest[],
  version: ProtocolVersion,
  logUnexpected: (e: unknown) => void,
): Promise<StreamResult[]> {
  const report = (e: unknown) => {
    if (!isExpected(e) && !(e instanceof RequestError)) logUnexpected(e);
  };
  const results: StreamResult[] = [];
  for (const request of requests) {
    if (stream.closed) {
      results.push({ type: "error", error: { message: "The stream was closed", code: "STREAM_CLOSED" } });
      continue;
    }
    try {
      results.push({ type: "ok", response: await handle(stream, request, version, report) });
    } catch (e) {
      report(e);
      results.push({ type: "error", error: toHranaError(e) });
    }
  }
  return results;
}

async function handle(
  stream: Stream,
  request: StreamRequest,
  version: ProtocolVersion,
  report: (e: unknown) => void,
): Promise<StreamResponse> {
  switch (request.type) {
    case "execute":
      return { type: "execute", result: await executeStmt(stream, request.stmt) };
    case "batch":
      return { type: "batch", result: await runBatch(stream, request.batch, version, report) };
    case "sequence": {
      const sql = resolveSql(stream, request.sql);
      await stream.run((session) => session.execute(sql));
      return { type: "sequence" };
    }
    case "describe": {
      const sql = resolveSql(stream, request.sql);
      const d = await stream.run(async (session) => session.describe(sql));
      return {
        type: "describe",
        result: {
          params: d.params.map((name) => ({ name })),
          cols: d.columns.map((c) => ({ name: c.name, decltype: c.type })),
          is_explain: d.isExplain,
          is_readonly: d.isReadonly,
        },
      };
    }
    case "store_sql":
      storeSql(stream, request.sqlId, request.sql);
      return { type: "store_sql" };
    case "close_sql":
      stream.sqls.delete(request.sqlId);
      return { type: "close_sql" };
    case "get_autocommit":
      if (version < 3) {
        throw new RequestError(
          "PROTOCOL_VERSION",
          "The `get_autocommit` request is only supported in protocol version 3 and higher",
        );
      }
      return { type: "get_autocommit", is_autocommit: !stream.session.inTransaction };
    case "close":
      stream.close();
      return { type: "close" };
  }
}
