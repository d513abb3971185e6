import { Command, CommanderError, Option } from "commander";
import { isTenantDbError } from "../engine/index.js";
import type { GlobalOptions } from "./context.js";

/**
 * Every `tenantdb` command is declared here, with its help; each command's work lives in
 * commands/<area>.ts and is loaded when the command runs. Only this file decides exit codes.
 */
const program = new Command("tenantdb")
  .description("SQLite database-per-tenant fleets: schema databases, guarded children, tokens and ATTACH.")
  .option("--data-dir <dir>", "data directory (default: $TENANTDB_DATA_DIR, else ./.tenantdb)")
  .option("--json", "print JSON on stdout and nothing else")
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride();

const globals = (cmd: Command): GlobalOptions => cmd.optsWithGlobals();
const collect = (value: string, previous: string[] = []) => [...previous, value];

// ── groups ──────────────────────────────────────────────────────────────────────────────────────────
const group = program
  .command("group")
  .description("manage groups (a group holds databases and signing keys)");
group
  .command("create <name>")
  .description("create a group")
  .option("--location <location>", "where the group lives (informational locally)")
  .action(async (name, opts, cmd) =>
    (await import("./commands/group.js")).groupCreate(globals(cmd), name, opts),
  );
group
  .command("list")
  .description("list groups")
  .action(async (_opts, cmd) => (await import("./commands/group.js")).groupList(globals(cmd)));
group
  .command("destroy <name>")
  .description("destroy an empty group")
  .action(async (name, _opts, cmd) => (await import("./commands/group.js")).groupDestroy(globals(cmd), name));
const groupTokens = group.command("tokens").description("tokens valid for every database of a group");
groupTokens
  .command("create <group>")
  .description("mint a group token and print it")
  .option("-e, --expiration <duration>", "never, or a duration such as 2w1d30m or 90s", "never")
  .option("-r, --read-only", "grant reads only")
  .option("--attach <db>", "also allow ATTACH of this database (repeatable)", collect)
  .action(async (name, opts, cmd) =>
    (await import("./commands/tokens.js")).tokensCreate(globals(cmd), { group: name }, opts),
  );
groupTokens
  .command("invalidate <group>")
  .description("invalidate every token of the group (rotates its signing key)")
  .action(async (name, _opts, cmd) =>
    (await import("./commands/tokens.js")).tokensInvalidate(globals(cmd), { group: name }),
  );
group
  .command("keys")
  .description("the group's signing keys")
  .command("show <group>")
  .description("print the group's public keys as PEM (sqld verifies tokens with them)")
  .action(async (name, _opts, cmd) =>
    (await import("./commands/group.js")).groupKeysShow(globals(cmd), name),
  );

// ── databases ───────────────────────────────────────────────────────────────────────────────────────
const db = program.command("db").description("manage databases");
db.command("create <name...>")
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
  .action(async (name, opts, cmd) => (await import("./commands/db.js")).dbCreate(globals(cmd), name, opts));
db.command("list")
  .description("list databases")
  .option("--group <group>", "only this group's")
  .option("--schema <parent>", "only children of this schema database")
  .action(async (opts, cmd) => (await import("./commands/db.js")).dbList(globals(cmd), opts));
db.command("show <name>")
  .description("show a database")
  .action(async (name, _opts, cmd) => (await import("./commands/db.js")).dbShow(globals(cmd), name));
db.command("destroy <name>")
  .description("destroy a database (a schema database only once it has no children)")
  .action(async (name, _opts, cmd) => (await import("./commands/db.js")).dbDestroy(globals(cmd), name));
db.command("shell <name> [sql]")
  .description("run SQL on a database, or open an interactive shell")
  .option("--token <jwt>", "act with this token's rights (default: the data directory's owner)")
  .option("--attach <db>", "ATTACH this database for the session (repeatable)", collect)
  .addHelpText(
    "after",
    '\nExamples:\n  $ tenantdb db shell tenant-1 "SELECT * FROM users"\n  $ tenantdb db shell app-schema "ALTER TABLE users ADD COLUMN phone TEXT"   # migrates every child\n  $ tenantdb db shell tenant-1 --token "$T" --attach catalog',
  )
  .action(async (name, sql, opts, cmd) =>
    (await import("./commands/shell.js")).dbShell(globals(cmd), name, sql, opts),
  );

const migrations = db
  .command("migrations <schema-db>")
  .description("list a schema database's migration jobs, with per-database progress")
  .action(async (name, _opts, cmd) =>
    (await import("./commands/migrations.js")).migrationsList(globals(cmd), name),
  );
migrations
  .command("resume <schema-db>")
  .description("finish a committed migration job (after a crash or an I/O error)")
  .action(async (name, _opts, cmd) =>
    (await import("./commands/migrations.js")).migrationsResume(globals(cmd), name),
  );

const dbTokens = db.command("tokens").description("database tokens");
dbTokens
  .command("create <db>")
  .description("mint a token for one database and print it")
  .option("-e, --expiration <duration>", "never, or a duration such as 2w1d30m or 90s", "never")
  .option("-r, --read-only", "grant reads only")
  .option("--attach <db>", "also allow ATTACH of this database (repeatable)", collect)
  .action(async (name, opts, cmd) =>
    (await import("./commands/tokens.js")).tokensCreate(globals(cmd), { database: name }, opts),
  );
dbTokens
  .command("invalidate <db>")
  .description("invalidate the tokens of the database's group (rotates the group's signing key)")
  .action(async (name, _opts, cmd) =>
    (await import("./commands/tokens.js")).tokensInvalidate(globals(cmd), { database: name }),
  );
dbTokens
  .command("revoke <jwt-or-jti>")
  .description("revoke one token; every other token keeps working")
  .action(async (token, _opts, cmd) =>
    (await import("./commands/tokens.js")).tokensRevoke(globals(cmd), token),
  );

db.command("config")
  .description("database configuration")
  .command("attach <action> <db>")
  .description("allow, disallow or show whether other databases may ATTACH this one")
  .action(async (action, name, _opts, cmd) =>
    (await import("./commands/db.js")).dbConfigAttach(globals(cmd), action, name),
  );

// ── demo ────────────────────────────────────────────────────────────────────────────────────────────
program
  .command("demo")
  .description("run the seed scenario on a fresh data directory, printing each step")
  .option("--fresh", "remove the data directory's previous demo data first")
  .action(async (opts, cmd) => (await import("./commands/demo.js")).demo(globals(cmd), opts));

// ── server ──────────────────────────────────────────────────────────────────────────────────────────
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
  .option("--executors <n>", "processes running statements (default: the number of cores, at least 2)")
  .addHelpText(
    "after",
    '\nExamples:\n  $ tenantdb api-tokens mint ci          # a token for the Platform API\n  $ tenantdb serve --port 8080\n  $ curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/v1/organizations/local/databases\n\nClients reach a database at http://127.0.0.1:8080/db/<name>/ (the trailing slash matters) with a database token.',
  )
  .action(async (opts, cmd) => (await import("./commands/serve.js")).serve(globals(cmd), opts));

const apiTokens = program
  .command("api-tokens")
  .description("API tokens for the Platform API of `tenantdb serve`");
apiTokens
  .command("mint <name>")
  .description("mint an API token and print it (it is shown only once)")
  .action(async (name, _opts, cmd) =>
    (await import("./commands/api-tokens.js")).apiTokensMint(globals(cmd), name),
  );
apiTokens
  .command("list")
  .description("list API tokens by name")
  .action(async (_opts, cmd) => (await import("./commands/api-tokens.js")).apiTokensList(globals(cmd)));
apiTokens
  .command("revoke <name>")
  .description("revoke an API token")
  .action(async (name, _opts, cmd) =>
    (await import("./commands/api-tokens.js")).apiTokensRevoke(globals(cmd), name),
  );

async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
    if (isTenantDbError(e)) {
      process.stderr.write(`Error: ${e.message}\n`);
      return 1;
    }
    // Not ours: still no stack trace for the user, but enough to report it.
    process.stderr.write(
      `Error: unexpected failure: ${(e as Error)?.message ?? String(e)}; please report this\n`,
    );
    if (process.env.TENANTDB_DEBUG) console.error(e);
    return 1;
  }
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
