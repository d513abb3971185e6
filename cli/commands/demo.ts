import fs from "node:fs";
import path from "node:path";
import { failedPrecondition } from "../../engine/errors.js";
import { type Engine, isTenantDbError, openEngine, resolveDataDir } from "../../engine/index.js";
import type { GlobalOptions } from "../context.js";
import { printLine, printResult } from "../output.js";

/**
 * The seed scenario, step by step, on a fresh data directory: a schema database whose change reaches
 * every tenant, a tenant refusing DDL, and a tenant joining a shared catalog through an attach token.
 */
export async function demo(g: GlobalOptions, opts: { fresh?: boolean }) {
  const dir = resolveDataDir(g.dataDir);
  prepareDirectory(dir, opts.fresh ?? false);
  const engine = await openEngine(dir);
  try {
    await run(engine);
  } finally {
    engine.close();
  }
  printLine();
  const shown = path.relative(process.cwd(), dir);
  printLine(
    `Done. Explore it: tenantdb --data-dir ${shown && !shown.startsWith("..") ? shown : dir} db list`,
  );
}

function prepareDirectory(dir: string, fresh: boolean) {
  if (!fs.existsSync(dir)) return;
  const entries = fs.readdirSync(dir);
  if (entries.length === 0) return;
  if (!entries.includes("catalog.db")) {
    throw failedPrecondition(
      `${dir} is not empty and is not a tenantdb data directory; pick another --data-dir`,
    );
  }
  if (!fresh) throw failedPrecondition(`${dir} already holds data; pass --fresh to start the demo over`);
  fs.rmSync(dir, { recursive: true, force: true });
}

async function run(engine: Engine) {
  const tenants = ["tenant-acme", "tenant-globex", "tenant-initech"];
  step("Create a group", "tenantdb group create demo");
  engine.createGroup("demo");

  step(
    "Create a schema database: it owns the schema of its children",
    "tenantdb db create app-schema --group demo --type schema",
  );
  await engine.createDatabase("app-schema", { group: "demo", type: "schema" });
  await engine.migrate(
    "app-schema",
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT)",
  );

  step(
    "Create three tenant databases from it",
    tenants.map((t) => `tenantdb db create ${t} --schema app-schema`).join("\n  "),
  );
  await engine.createChildren("app-schema", tenants);
  for (const [i, t] of tenants.entries()) {
    await engine.execute(t, "INSERT INTO users (name, email) VALUES (?, ?)", {
      args: [`user ${i + 1}`, `user${i + 1}@${t}.example`],
    });
  }
  printLine(
    `  ${tenants.join(", ")}: schema version ${engine.getDatabase(tenants[0] as string).schemaVersion}, one user each`,
  );

  step(
    "Change the schema once, on the parent: it reaches every tenant, all or none",
    'tenantdb db shell app-schema "ALTER TABLE users ADD COLUMN phone_number TEXT"',
  );
  const result = await engine.migrate("app-schema", "ALTER TABLE users ADD COLUMN phone_number TEXT");
  printLine(`  job ${result.jobId}: ${result.databases} databases now at schema version ${result.version}`);
  for (const t of tenants) {
    const [cols] = await engine.execute(t, "SELECT group_concat(name, ', ') FROM pragma_table_info('users')");
    printLine(`  ${t}: users(${String(cols?.rows[0]?.[0])})`);
  }

  step(
    "DDL sent straight to a tenant is refused",
    'tenantdb db shell tenant-acme "CREATE TABLE new_table (name)"',
  );
  try {
    await engine.execute("tenant-acme", "CREATE TABLE new_table (name)");
    printLine("  unexpected: the statement ran");
  } catch (e) {
    if (!isTenantDbError(e)) throw e;
    printLine(`  Error: ${e.message}`);
  }

  step(
    "A shared catalog that tenants may ATTACH",
    "tenantdb db create catalog --group demo && tenantdb db config attach allow catalog",
  );
  await engine.createDatabase("catalog", { group: "demo" });
  await engine.execute(
    "catalog",
    "CREATE TABLE promotions (category TEXT, discount REAL); INSERT INTO promotions VALUES ('books', 0.1), ('games', 0.25), ('music', 0.05)",
  );
  engine.updateDatabaseConfig("catalog", { allowAttach: true });
  // Tenants keep their preferences in their own database; the table comes from the parent like any other.
  await engine.migrate(
    "app-schema",
    "CREATE TABLE user_preferences (user_id INTEGER, interested_category TEXT)",
  );
  await engine.execute(
    "tenant-acme",
    "INSERT INTO user_preferences VALUES (1, 'books'), (1, 'games'), (2, 'music')",
  );

  step(
    "A tenant token that may attach the catalog",
    "T=$(tenantdb db tokens create tenant-acme --attach catalog)",
  );
  const token = await engine.createToken({ database: "tenant-acme", attach: ["catalog"] });
  printLine(`  ${token.jwt.slice(0, 32)}… (jti ${token.jti})`);
  step(
    "Join the tenant's data with the shared catalog",
    `tenantdb db shell tenant-acme --token "$T" 'ATTACH "catalog" AS catalog; SELECT ...'`,
  );
  const principal = await engine.authenticate(token.jwt, "tenant-acme");
  const session = engine.openSession("tenant-acme", principal);
  try {
    const results = await session.execute(
      'ATTACH "catalog" AS catalog; SELECT category, discount FROM catalog.promotions JOIN user_preferences AS up ON category = up.interested_category WHERE up.user_id = 1',
    );
    const joined = results.at(-1);
    if (joined) printResult(joined);
  } finally {
    session.close();
  }
}

function step(title: string, command: string) {
  printLine();
  printLine(`▸ ${title}`);
  printLine(`  $ ${command}`);
}
