import path from "node:path";
import { failedPrecondition } from "../../engine/errors.js";
import { type Engine, isTenantDbError, openEngine, resolveDataDir } from "../../engine/index.js";
import type { GlobalOptions } from "../context.js";
import { printLine } from "../output.js";
import { render } from "../shell/render.js";

/** Where the demo runs unless told otherwise: a directory of its own, never the user's ./.tenantdb. */
const DEFAULT_DEMO_DIR = ".tenantdb-demo";
/** Catalog meta keys: the demo marks a directory it started, and records the databases it made there. */
const MADE_BY = "madeBy";
const DEMO_DATABASES = "demo.databases";
const GROUP = "demo";

/**
 * The seed scenario, step by step: a schema database whose change reaches every tenant, a tenant refusing
 * DDL, and a tenant joining a shared catalog through an attach token. It runs only in a directory of its
 * own (new, empty, or one an earlier demo started), and --fresh removes only the databases the demo
 * itself created there, by id: whatever else is in that directory stays.
 */
export async function demo(g: GlobalOptions, opts: { fresh?: boolean }) {
  const dir = resolveDataDir(g.dataDir || process.env.TENANTDB_DATA_DIR || DEFAULT_DEMO_DIR);
  const engine = await openEngine(dir);
  try {
    prepare(engine, opts.fresh ?? false);
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

function prepare(engine: Engine, fresh: boolean) {
  if (engine.getMeta(MADE_BY) !== "demo") {
    const empty =
      engine.listGroups().length === 0 &&
      engine.countDatabases() === 0 &&
      engine.listApiTokens().length === 0;
    if (!empty) {
      throw failedPrecondition(
        `${engine.dataDir} holds data the demo did not create, and the demo never touches it; run the demo in a directory of its own: tenantdb --data-dir ${DEFAULT_DEMO_DIR} demo`,
      );
    }
    engine.setMeta(MADE_BY, "demo");
    return;
  }
  const made = madeByDemo(engine);
  if (made.length === 0) return;
  if (!fresh) {
    throw failedPrecondition(
      `${engine.dataDir} already holds an earlier demo run; pass --fresh to remove what that run created and start over`,
    );
  }
  // Children before their parent; a database someone else made in the meantime is left where it is.
  const ours = new Set(made);
  const present = engine.listDatabases().filter((d) => ours.has(d.uuid));
  present.sort((a, b) => Number(a.type === "schema") - Number(b.type === "schema"));
  for (const d of present) engine.destroyDatabase(d.name);
  engine.setMeta(DEMO_DATABASES, "[]");
  if (engine.listGroups().some((x) => x.name === GROUP && x.databases === 0)) engine.destroyGroup(GROUP);
}

function madeByDemo(engine: Engine): string[] {
  return JSON.parse(engine.getMeta(DEMO_DATABASES) ?? "[]") as string[];
}

function remember(engine: Engine, ...uuids: string[]) {
  engine.setMeta(DEMO_DATABASES, JSON.stringify([...madeByDemo(engine), ...uuids]));
}

async function run(engine: Engine) {
  const tenants = ["tenant-acme", "tenant-globex", "tenant-initech"];
  step("Create a group", "tenantdb group create demo");
  if (!engine.listGroups().some((x) => x.name === GROUP)) engine.createGroup(GROUP);

  step(
    "Create a schema database: it owns the schema of its children",
    "tenantdb db create app-schema --group demo --type schema",
  );
  remember(engine, (await engine.createDatabase("app-schema", { group: GROUP, type: "schema" })).uuid);
  await engine.migrate(
    "app-schema",
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT)",
  );

  step(
    "Create three tenant databases from it",
    tenants.map((t) => `tenantdb db create ${t} --schema app-schema`).join("\n  "),
  );
  remember(engine, ...(await engine.createChildren("app-schema", tenants)).map((d) => d.uuid));
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
  remember(engine, (await engine.createDatabase("catalog", { group: GROUP })).uuid);
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
    if (joined) render(joined, { mode: "column", headers: true });
  } finally {
    session.close();
  }
}

function step(title: string, command: string) {
  printLine();
  printLine(`▸ ${title}`);
  printLine(`  $ ${command}`);
}
