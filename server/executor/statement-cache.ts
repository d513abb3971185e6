import Database from "better-sqlite3";

/**
 * Prepared statements reused, in executor processes only. The engine prepares every statement it runs,
 * each time — the catalog lookups a session makes per statement included — and on a busy machine a
 * prepare costs several times the query it prepares. SQLite re-prepares a cached statement by itself
 * when the schema changes, so reuse is safe as long as a statement is not in use (an open iterator) and
 * comes back in its default modes.
 */

const PER_CONNECTION = 128;

export function reusePreparedStatements(): void {
  const proto = Database.prototype as unknown as {
    prepare(this: Database.Database, sql: string): Database.Statement;
  };
  const prepare = proto.prepare;
  const caches = new WeakMap<Database.Database, Map<string, Database.Statement>>();
  proto.prepare = function (sql) {
    let cache = caches.get(this);
    if (!cache) {
      cache = new Map();
      caches.set(this, cache);
    }
    const cached = cache.get(sql);
    if (cached && !(cached as { busy?: boolean }).busy) {
      if (cached.reader) cached.raw(false).pluck(false).expand(false);
      return cached;
    }
    const stmt = prepare.call(this, sql);
    if (!cached) {
      if (cache.size >= PER_CONNECTION) cache.delete(cache.keys().next().value as string);
      cache.set(sql, stmt);
    }
    return stmt;
  };
}
