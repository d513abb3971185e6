export type { CreateDatabaseOptions, DatabaseConfig, DatabaseInfo } from "./databases.js";
export { type Engine, type OpenOptions, openEngine } from "./engine.js";
export {
  alreadyExists,
  blocked,
  conflict,
  ERROR_CODES,
  type ErrorCode,
  failedPrecondition,
  invalidArgument,
  isTenantDbError,
  notFound,
  permissionDenied,
  storageError,
  TenantDbError,
  unauthenticated,
} from "./errors.js";
export type { GroupInfo } from "./groups.js";
export { DEFAULT_LOCATION } from "./groups.js";
export { type JobLimits, jobLimitsFromEnv } from "./job-limits.js";
export type { JobProgress, ProgressListener } from "./jobs/runner.js";
export type { JobView, TaskView } from "./jobs/view.js";
export { resolveDataDir } from "./layout.js";
export {
  checksumOf,
  dryRunOnEmpty,
  historyConflict,
  type PreviewFailure,
  validateMigration,
} from "./migrations.js";
export { isValidName, validateName } from "./names.js";
export { DEFAULT_FENCE_WAIT_MS } from "./query/fence.js";
export type { Principal } from "./query/principal.js";
export { OWNER } from "./query/principal.js";
export type { Session, SessionOptions } from "./query/session.js";
export type { QueryResult, SqlArgs, SqlValue } from "./query/values.js";
export { toJsonValue } from "./query/values.js";
export { validateSchema } from "./schema/desired.js";
export type {
  DriftReport,
  SchemaApplyOptions,
  SchemaPlan,
  SchemaPlanOptions,
} from "./schema/fleet.js";
export type { Finding, LintKind, RowCost } from "./schema/lint.js";
export { parseExpiration } from "./tokens/expiration.js";
export { turnLatch } from "./turn.js";
export { wholeNumber } from "./whole-number.js";
