import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * The plans previews showed, by fleet, database and declared schema, so that `up` applies that plan and no
 * other. They are kept in files, not in the plugin's memory: Pulumi starts a fresh plugin process for
 * each deployment, so the preview of `pulumi up` (or an earlier `pulumi preview`) and the update that
 * follows never share one. Nothing is written to the fleet itself (previews write nothing there).
 *
 * A record can only make `up` stricter: without one (`--skip-preview`, another machine, a directory that
 * cannot be written) `up` applies the plan it makes then, dry-run everywhere first, all or none.
 */

/** Where the records live: `$TENANTDB_PREVIEW_DIR`, else a directory of this user's under the temp dir. */
function root(env: NodeJS.ProcessEnv): string {
  const uid = typeof process.getuid === "function" ? process.getuid() : 0;
  return env.TENANTDB_PREVIEW_DIR || path.join(os.tmpdir(), `tenantdb-previews-${uid}`);
}

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

/** One folder per fleet and database (removed whole once a plan is applied), one file per schema. */
function folderOf(fleet: string, database: string, env: NodeJS.ProcessEnv): string {
  return path.join(root(env), sha(`${fleet}\0${database}`));
}

export function rememberPreview(
  where: { fleet: string; database: string; schema: string },
  checksum: string,
  env: NodeJS.ProcessEnv = process.env,
): void {
  const folder = folderOf(where.fleet, where.database, env);
  const file = path.join(folder, sha(where.schema));
  try {
    fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
    // Written whole and renamed, so a reader never sees half a checksum.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, checksum, { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch {
    // Without a record, `up` applies the plan it makes then (see above): weaker, never wrong.
  }
}

/** The checksum of the plan last previewed for this schema, if a preview recorded one. */
export function previewedChecksum(
  where: { fleet: string; database: string; schema: string },
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  try {
    const text = fs.readFileSync(
      path.join(folderOf(where.fleet, where.database, env), sha(where.schema)),
      "utf8",
    );
    return /^[0-9a-f]{64}$/.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

/** Once a plan is applied, every earlier preview of the database names a version it has left. */
export function forgetPreviews(
  where: { fleet: string; database: string },
  env: NodeJS.ProcessEnv = process.env,
): void {
  fs.rmSync(folderOf(where.fleet, where.database, env), { recursive: true, force: true });
}
