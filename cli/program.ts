import { Argument, Command, Option } from "commander";
import { EXIT_CODES_HELP } from "./errors.js";
import { readVersion } from "./version.js";

/**
 * Every `tenantdb` command is declared here, with its help and examples; each command's work lives in
 * commands/<area>.ts and is loaded (with the engine) only when the command runs, so `--help` and
 * `--version` start as fast as Node does. main.ts runs it and alone decides exit codes.
 */
/** What the environment sets besides the options below (engine/job-limits.ts). */
const ENVIRONMENT_HELP = `
Environment:
  TENANTDB_JOB_WORKERS         threads per migration job (default: 3 per core, 4 to 16)
  TENANTDB_DRY_RUN_MEMORY_MIB  memory one database's dry run may hold (default: 16); a job holds
                               at most workers × this`;

/** Known before parsing, so that even a usage error can answer in JSON. */
export const json = process.argv.includes("--json");
export const program = new Command("tenantdb")
  .description("SQLite database-per-tenant fleets: schema databases, guarded children, tokens and ATTACH.")
  .version(readVersion(), "-V, --version", "print the version")
  .option("--data-dir <dir>", "data directory (default: $TENANTDB_DATA_DIR, else ./.tenantdb)")
  .option("--json", "print JSON on stdout and nothing else; errors also as JSON on stderr")
  .option(
    "--fence-wait <ms>",
    "how long a write waits for a migration's fence to lift before BLOCKED (default: $TENANTDB_FENCE_WAIT_MS, else 5000)",
  )
  .configureOutput({
    // Usage errors look like every other error: `Error: ...`, and JSON on stderr with --json.
    outputError: (text) => {
      const message = text.replace(/^error: /, "").trim();
      process.stderr.write(`Error: ${message}\n`);
      if (json) process.stderr.write(`${JSON.stringify({ error: { code: "INVALID_ARGUMENT", message } })}\n`);
      else process.stderr.write("(run with --help for usage)\n");
    },
  })
  .addHelpText(
    "after",
    `${examples("tenantdb db create app --type schema", "tenantdb help db shell")}\n${ENVIRONMENT_HELP}\n${EXIT_CODES_HELP}`,
  )
  .exitOverride();

type Globals = { dataDir?: string; json?: boolean; fenceWait?: string };
const globals = (cmd: Command): Globals => cmd.optsWithGlobals();
const collect = (value: string, previous: string[] = []) => [...previous, value];

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => (l.startsWith("#") ? `  ${l}` : `  $ ${l}`)).join("\n")}`;
}

function withExamples(cmd: Command, ...lines: string[]): Command {
  return cmd.addHelpText("after", examples(...lines));
}

// ── groups ──────────────────────────────────────────────────────────────────────────────────────────
const group = withExamples(
  program.command("group").description("manage groups (a group holds databases and signing keys)"),
  "tenantdb group create acme --location lhr",
  "tenantdb group list",
);
withExamples(
  group
    .command("create <name>")
    .description("create a group")
    .option("--location <location>", "where the group lives (informational locally)"),
  "tenantdb group create acme",
  "tenantdb group create acme --location lhr",
).action(async (name, opts, cmd) =>
  (await import("./commands/group.js")).groupCreate(globals(cmd), name, opts),
);
withExamples(
  group.command("list").description("list groups"),
  "tenantdb group list",
  "tenantdb group list --json",
).action(async (_opts, cmd) => (await import("./commands/group.js")).groupList(globals(cmd)));
withExamples(
  group
    .command("destroy <name>")
    .description("destroy an empty group (asks first on a terminal)")
    .option("-y, --yes", "do not ask for confirmation"),
  "tenantdb group destroy acme --yes",
).action(async (name, opts, cmd) =>
  (await import("./commands/group.js")).groupDestroy(globals(cmd), name, opts),
);
const groupTokens = withExamples(
  group.command("tokens").description("tokens valid for every database of a group"),
  "tenantdb group tokens create acme --expiration 2w",
);
withExamples(
  groupTokens
    .command("create <group>")
    .description("mint a group token and print it")
    .option("-e, --expiration <duration>", "never, or a duration such as 2w1d30m or 90s", "never")
    .option("-r, --read-only", "grant reads only")
    .option("--attach <db>", "also allow ATTACH of this database (repeatable)", collect),
  "T=$(tenantdb group tokens create acme --expiration 1d)",
  "tenantdb group tokens create acme --read-only",
).action(async (name, opts, cmd) =>
  (await import("./commands/tokens.js")).tokensCreate(globals(cmd), { group: name }, opts),
);
withExamples(
  groupTokens
    .command("invalidate <group>")
    .description("invalidate every token of the group (rotates its signing key; asks first on a terminal)")
    .option("-y, --yes", "do not ask for confirmation"),
  "tenantdb group tokens invalidate acme --yes",
).action(async (name, opts, cmd) =>
  (await import("./commands/tokens.js")).tokensInvalidate(globals(cmd), { group: name }, opts),
);
const groupKeys = withExamples(
  group.command("keys").description("the group's signing keys"),
  "tenantdb group keys show acme",
);
withExamples(
  groupKeys
    .command("show <group>")
    .description("print the group's public keys as PEM (sqld verifies tokens with them)"),
  "tenantdb group keys show acme > acme.pem",
).action(async (name, _opts, cmd) => (await import("./commands/group.js")).groupKeysShow(globals(cmd), name));

// ── databases ───────────────────────────────────────────────────────────────────────────────────────
const db = withExamples(
  program.command("db").description("manage databases"),
  "tenantdb db create app --type schema",
  "tenantdb db create tenant-1 tenant-2 --schema app",
  "tenantdb db shell tenant-1",
);
withExamples(
  db
    .command("create <name...>")
    .description(
      "create a database: standard, a schema database (--type schema) or its child (--schema); several children at once are created together, all or none",
    )
    .option("--group <group>", 'group to create it in (default "default", created on first use)')
    .addOption(
      new Option("--type <type>", "schema: a schema database whose DDL reaches its children").choices([
        "schema",
        "standard",
      ]),
    )
    .option("--schema <parent>", "create as a child of this schema database (a copy of its schema)")
    .option("--from-db <db>", "seed it with a copy of this database's schema and rows")
    .option("--from-dump <file>", "seed it by running this SQL dump (e.g. from `tenantdb db dump`)"),
  "tenantdb db create notes",
  "tenantdb db create app --type schema --group acme",
  "tenantdb db create tenant-1 tenant-2 tenant-3 --schema app",
  "tenantdb db create staging --from-db production",
  "tenantdb db create demo --from-dump seed.sql",
).action(async (name, opts, cmd) => (await import("./commands/db.js")).dbCreate(globals(cmd), name, opts));
withExamples(
  db
    .command("list")
    .description("list databases")
    .option("--group <group>", "only this group's")
    .option("--schema <parent>", "only children of this schema database"),
  "tenantdb db list",
  "tenantdb db list --schema app --json",
).action(async (opts, cmd) => (await import("./commands/db.js")).dbList(globals(cmd), opts));
withExamples(
  db.command("show <name>").description("show a database"),
  "tenantdb db show tenant-1",
  "tenantdb db show tenant-1 --json",
).action(async (name, _opts, cmd) => (await import("./commands/db.js")).dbShow(globals(cmd), name));
withExamples(
  db
    .command("destroy [names...]")
    .description(
      "destroy databases (a schema database only once it has no children); asks first on a terminal",
    )
    .option("--schema <parent>", "destroy every child of this schema database (the parent stays)")
    .option("-y, --yes", "do not ask for confirmation (needed when standard input is not a terminal)"),
  "tenantdb db destroy tenant-1",
  "tenantdb db destroy tenant-1 tenant-2 tenant-3 --yes",
  "tenantdb db destroy --schema app --yes   # every child of app",
).action(async (names, opts, cmd) => (await import("./commands/db.js")).dbDestroy(globals(cmd), names, opts));
withExamples(
  db
    .command("shell <name> [sql]")
    .description(
      "run SQL or dot-commands on a database, or open an interactive shell (.help lists dot-commands)",
    )
    .option("--token <jwt>", "act with this token's rights (default: the data directory's owner)")
    .option("--attach <db>", "ATTACH this database for the session (repeatable)", collect),
  'tenantdb db shell tenant-1 "SELECT * FROM users"',
  'tenantdb db shell app-schema "ALTER TABLE users ADD COLUMN phone TEXT"   # migrates every child',
  "tenantdb db shell tenant-1 .tables",
  "tenantdb db shell tenant-1 < script.sql",
  'tenantdb db shell tenant-1 --token "$T" --attach catalog',
).action(async (name, sql, opts, cmd) =>
  (await import("./commands/shell.js")).dbShell(globals(cmd), name, sql, opts),
);
withExamples(
  db
    .command("inspect <name>")
    .description("size, tables with row counts, indexes and schema version of a database"),
  "tenantdb db inspect tenant-1",
  "tenantdb db inspect tenant-1 --json",
).action(async (name, _opts, cmd) => (await import("./commands/inspect.js")).dbInspect(globals(cmd), name));
withExamples(
  db
    .command("dump <name>")
    .description("print a database as SQL text (schema and rows), like sqlite3's .dump"),
  "tenantdb db dump tenant-1 > tenant-1.sql",
  "tenantdb db create copy --from-dump tenant-1.sql",
).action(async (name, _opts, cmd) => (await import("./commands/dump.js")).dbDump(globals(cmd), name));
withExamples(
  db
    .command("import <name> <file>")
    .description(
      "load a .sql dump or a SQLite database file into a database (created as a standard database if it does not exist); all or nothing",
    )
    .option("--group <group>", 'group for a database this creates (default "default")'),
  "tenantdb db import notes notes.sql",
  "tenantdb db import legacy ./legacy.sqlite3",
).action(async (name, file, opts, cmd) =>
  (await import("./commands/dump.js")).dbImport(globals(cmd), name, file, opts),
);

withExamples(
  db
    .command("migrate <schema-db> <source>")
    .description(
      "apply a .sql file, or a folder of ordered migration files (0001_init.sql, … or a drizzle-kit folder), skipping those already applied; all pending ones run as one job, all or none",
    )
    .option("--dry-run", "run them on every database and roll back; report where they would fail"),
  "tenantdb db migrate app migrations/            # 0001_init.sql, 0002_plans.sql, …",
  "tenantdb db migrate app drizzle/ --dry-run     # drizzle-kit's output folder",
  "tenantdb db migrate app 0003_index.sql",
).action(async (name, source, opts, cmd) =>
  (await import("./commands/migrate.js")).dbMigrate(globals(cmd), name, source, opts),
);

const migrations = withExamples(
  db
    .command("migrations <schema-db>")
    .description("list a schema database's migration jobs, with per-database progress")
    .option("--job <id>", "only this job")
    .option("--after <seq>", "with --json: each job's tasks after this one (a page's nextAfter)")
    .option("--limit <n>", "with --json: tasks per job (default 1000, at most 10000)"),
  "tenantdb db migrations app",
  "tenantdb db migrations app --job 7 --json --after 1000",
  "tenantdb db migrations resume app",
).action(async (name, opts, cmd) =>
  (await import("./commands/migrations.js")).migrationsList(globals(cmd), name, opts),
);
withExamples(
  migrations
    .command("resume <schema-db>")
    .description("finish a committed migration job (after a crash or an I/O error)"),
  "tenantdb db migrations resume app",
).action(async (name, _opts, cmd) =>
  (await import("./commands/migrations.js")).migrationsResume(globals(cmd), name),
);

const dbSchema = withExamples(
  db
    .command("schema")
    .description("declarative schemas: declare the schema, tenantdb plans, lints and applies the migration"),
  "tenantdb db schema plan app schema.sql",
  "tenantdb db schema apply app schema.sql --rename users.email=mail",
  "tenantdb db schema drift app",
);
const rename = (cmd: Command) =>
  cmd.option(
    "--rename <new=old>",
    "declare a rename: table new=old, or column table.new=old (repeatable)",
    collect,
  );
withExamples(
  rename(
    dbSchema
      .command("plan <schema-db> <schema.sql>")
      .description("print the statements, the lint and the dry run on every database; changes nothing"),
  ),
  "tenantdb db schema plan app schema.sql --json",
).action(async (name, file, opts, cmd) =>
  (await import("./commands/schema.js")).schemaPlan(globals(cmd), name, file, opts),
);
withExamples(
  rename(
    dbSchema
      .command("apply <schema-db> <schema.sql>")
      .description(
        "apply the plan as one migration job over the schema database and every child, all or none",
      ),
  ).option("--allow-destructive", "allow dropping tables and columns"),
  "tenantdb db schema apply app schema.sql",
  "tenantdb db schema apply app schema.sql --allow-destructive",
).action(async (name, file, opts, cmd) =>
  (await import("./commands/schema.js")).schemaApply(globals(cmd), name, file, opts),
);
withExamples(
  dbSchema.command("show <db>").description("print a database's schema as canonical DDL"),
  "tenantdb db schema show app > schema.sql",
).action(async (name, _opts, cmd) => (await import("./commands/schema.js")).schemaShow(globals(cmd), name));
withExamples(
  dbSchema
    .command("drift <schema-db>")
    .description("compare every child's file with its schema database's schema and version"),
  "tenantdb db schema drift app",
).action(async (name, _opts, cmd) => (await import("./commands/schema.js")).schemaDrift(globals(cmd), name));

const dbTokens = withExamples(
  db.command("tokens").description("database tokens"),
  "T=$(tenantdb db tokens create tenant-1)",
);
withExamples(
  dbTokens
    .command("create <db>")
    .description("mint a token for one database and print it")
    .option("-e, --expiration <duration>", "never, or a duration such as 2w1d30m or 90s", "never")
    .option("-r, --read-only", "grant reads only")
    .option("--attach <db>", "also allow ATTACH of this database (repeatable)", collect),
  "T=$(tenantdb db tokens create tenant-1 --expiration 1d)",
  "tenantdb db tokens create tenant-1 --read-only --attach catalog",
).action(async (name, opts, cmd) =>
  (await import("./commands/tokens.js")).tokensCreate(globals(cmd), { database: name }, opts),
);
withExamples(
  dbTokens
    .command("invalidate <db>")
    .description(
      "invalidate the tokens of the database's group (rotates the group's signing key; asks first on a terminal)",
    )
    .option("-y, --yes", "do not ask for confirmation"),
  "tenantdb db tokens invalidate tenant-1 --yes",
).action(async (name, opts, cmd) =>
  (await import("./commands/tokens.js")).tokensInvalidate(globals(cmd), { database: name }, opts),
);
withExamples(
  dbTokens.command("revoke <jwt-or-jti>").description("revoke one token; every other token keeps working"),
  'tenantdb db tokens revoke "$T"',
).action(async (token, _opts, cmd) =>
  (await import("./commands/tokens.js")).tokensRevoke(globals(cmd), token),
);

const dbConfig = withExamples(
  db.command("config").description("database configuration: attach, block-reads, block-writes"),
  "tenantdb db config attach allow catalog",
  "tenantdb db config block-writes on tenant-1",
);
withExamples(
  dbConfig
    .command("attach")
    .description("allow, disallow or show whether other databases may ATTACH this one")
    .addArgument(new Argument("<action>", "what to do").choices(["allow", "disallow", "show"]))
    .addArgument(new Argument("<db>", "the database")),
  "tenantdb db config attach allow catalog",
  "tenantdb db config attach show catalog --json",
).action(async (action, name, _opts, cmd) =>
  (await import("./commands/db.js")).dbConfigAttach(globals(cmd), action, name),
);
for (const [verb, what] of [
  ["block-reads", "reads (and writes)"],
  ["block-writes", "writes"],
] as const) {
  withExamples(
    dbConfig
      .command(verb)
      .description(
        `turn on or off, or show, the block on ${what} of a database (Turso's ${verb.replace("-", "_")})`,
      )
      .addArgument(new Argument("<state>", "on, off or show").choices(["on", "off", "show"]))
      .addArgument(new Argument("<db>", "the database")),
    `tenantdb db config ${verb} on tenant-1`,
    `tenantdb db config ${verb} off tenant-1`,
  ).action(async (state, name, _opts, cmd) =>
    (await import("./commands/db.js")).dbConfigBlock(globals(cmd), verb, state, name),
  );
}

// ── demo ────────────────────────────────────────────────────────────────────────────────────────────
withExamples(
  program
    .command("demo")
    .description(
      "run the seed scenario, printing each step, in a data directory of its own (an empty or new one, or one the demo made)",
    )
    .option(
      "--fresh",
      "start over: remove what an earlier demo run created in that directory, and nothing else",
    ),
  "tenantdb --data-dir .tenantdb-demo demo --fresh",
).action(async (opts, cmd) => (await import("./commands/demo.js")).demo(globals(cmd), opts));

// ── server ──────────────────────────────────────────────────────────────────────────────────────────
withExamples(
  program
    .command("serve")
    .description(
      "serve the Platform API and the Hrana data plane (@tursodatabase/api, @libsql/client) over HTTP",
    )
    .option("--port <port>", "port to listen on (0 picks a free one)", "8080")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--org <org>", "organization name in Platform API paths", "local")
    .option("--statement-timeout <seconds>", "stop a statement that runs longer (QUERY_TIMEOUT)", "5")
    .option("--transaction-timeout <seconds>", "roll back an interactive transaction open longer", "5")
    .option("--executors <n>", "processes running statements (default: the number of cores, at least 2)"),
  "tenantdb api-tokens mint ci          # a token for the Platform API",
  "tenantdb serve --port 8080",
  'curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/v1/organizations/local/databases',
  "# Clients reach a database at http://127.0.0.1:8080/db/<name>/ (the trailing slash matters) with a database token.",
).action(async (opts, cmd) => (await import("./commands/serve.js")).serve(globals(cmd), opts));

const apiTokens = withExamples(
  program.command("api-tokens").description("API tokens for the Platform API of `tenantdb serve`"),
  "TOKEN=$(tenantdb api-tokens mint ci)",
);
withExamples(
  apiTokens.command("mint <name>").description("mint an API token and print it (it is shown only once)"),
  "TOKEN=$(tenantdb api-tokens mint ci)",
).action(async (name, _opts, cmd) =>
  (await import("./commands/api-tokens.js")).apiTokensMint(globals(cmd), name),
);
withExamples(
  apiTokens.command("list").description("list API tokens by name"),
  "tenantdb api-tokens list",
).action(async (_opts, cmd) => (await import("./commands/api-tokens.js")).apiTokensList(globals(cmd)));
withExamples(
  apiTokens.command("revoke <name>").description("revoke an API token"),
  "tenantdb api-tokens revoke ci",
).action(async (name, _opts, cmd) =>
  (await import("./commands/api-tokens.js")).apiTokensRevoke(globals(cmd), name),
);
