import fs from "node:fs";
import { createClient } from "@libsql/client";
import { openEngine } from "/work/main/engine/index.js";
import { startServer } from "/work/main/server/index.js";
const dir = fs.mkdtempSync("/tmp/scratch/s-");
const engine = await openEngine(dir, { workers: 2 });
const server = await startServer(engine, { port: 0 });
engine.createGroup("default");
await engine.createDatabase("p", { group: "default", type: "schema" });
await engine.createDatabase("c", { schemaParent: "p" });
const jwt = (await engine.createToken({ group: "default" })).jwt;
const p = createClient({ url: `${server.url}/db/p/`, authToken: jwt });
try { await p.migrate(["CREATE TABLE a(x)", "CREATE TABLE b(y)"]); console.log("migrate ok"); } catch (e) { console.log("migrate:", e.code, e.message); }
try { await p.executeMultiple("CREATE TABLE m1(x); CREATE TABLE m2(y);"); console.log("multi ok"); } catch (e) { console.log("multi:", e.code, e.message); }
try { const tx = await p.transaction("write"); await tx.execute("CREATE TABLE t(x)"); await tx.commit(); } catch (e) { console.log("tx:", e.code, e.message); }
try { console.log((await p.batch(["SELECT name FROM sqlite_schema ORDER BY name"], "read"))[0].rows); } catch (e) { console.log("readbatch:", e.code, e.message); }
try { await p.batch([{sql: "INSERT INTO a VALUES (?)", args: [1]}], "write"); } catch (e) { console.log("args batch:", e.code, e.message); }
const c = createClient({ url: `${server.url}/db/c/`, authToken: jwt });
console.log((await c.execute("SELECT name FROM sqlite_schema WHERE type='table' ORDER BY name")).rows.map(r => r.name));
console.log(engine.listJobs("p").map(j => [j.id, j.state, j.statements]));
console.log(await (await fetch(`${server.url}/v1/jobs`, { headers: { authorization: `Bearer ${(await engine.createToken({ database: "p" })).jwt}` } })).json());
p.close(); c.close();
await server.close(); engine.close();
