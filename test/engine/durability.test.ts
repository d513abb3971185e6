import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { imageReader, readUndo, SMALL_FILE, writeUndo } from "../../engine/jobs/undo.js";
import { scalar, tempDir, tempEngine } from "../helpers.js";

/** The first bytes of a database's journal, or null when it has none. */
function journalHead(file: string): Buffer | null {
  try {
    return fs.readFileSync(`${file}-journal`).subarray(0, 28);
  } catch {
    return null;
  }
}

describe("the run phase's undo log", () => {
  it("reads back the intact images of a log and stops at the first torn or altered record", () => {
    const file = path.join(tempDir(), "undo", "1", "log.log");
    const images = [1, 2, 3].map((seq) => ({ seq, data: Buffer.alloc(1000 * seq, seq) }));
    writeUndo(file, images);
    expect(readUndo(file)).toEqual(images);

    // A later, smaller batch overwrites the log whole: nothing of the earlier batch survives.
    writeUndo(file, images.slice(0, 1));
    expect(readUndo(file)).toEqual(images.slice(0, 1));

    writeUndo(file, images);
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 10)); // the third record cut short
    expect(readUndo(file).map((i) => i.seq)).toEqual([1, 2]);
    const inSecond = 20 + 1000 + 20 + 5; // past the first record (header + image) and the second's header
    bytes.writeUInt8(bytes.readUInt8(inSecond) ^ 0xff, inSecond);
    fs.writeFileSync(file, bytes);
    expect(readUndo(file).map((i) => i.seq)).toEqual([1]);
  });
});

describe("the run phase's images", () => {
  it("reads each file whole into a buffer shared by the batch, earlier images intact after it grows", () => {
    const dir = tempDir();
    // Larger together than the reader's first buffer, so later images go into a new one.
    const files = [300_000, 1, 100_000, SMALL_FILE, 0].map((size, i) => {
      const file = path.join(dir, `db${i}`);
      fs.writeFileSync(file, Buffer.from(Array.from({ length: size }, (_, j) => (j * 7 + i) % 251)));
      return file;
    });
    for (let batch = 0; batch < 2; batch++) {
      const read = imageReader();
      const images = files.map((file) => read(file));
      images.forEach((image, i) => {
        expect(image.equals(fs.readFileSync(files[i] as string))).toBe(true);
      });
    }
  });
});

describe("journals", () => {
  it("migrates a database too large for the undo log through SQLite's journal, and small ones without", async () => {
    const engine = await tempEngine();
    engine.createGroup("default");
    await engine.createDatabase("parent", { type: "schema" });
    await engine.migrate("parent", "CREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT)");
    await engine.createChildren("parent", ["small", "large"]);
    await engine.execute(
      "large",
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
       INSERT INTO docs (body) SELECT randomblob(2000) FROM n`,
    );
    const large = engine.getDatabase("large").path;
    const small = engine.getDatabase("small").path;
    expect(fs.statSync(large).size).toBeGreaterThan(SMALL_FILE);
    expect(fs.statSync(small).size).toBeLessThan(SMALL_FILE);
    fs.rmSync(`${large}-journal`, { force: true });

    await engine.migrate("parent", "ALTER TABLE docs ADD COLUMN title TEXT");
    for (const name of ["small", "large", "parent"]) {
      expect(await scalar(engine, name, "SELECT count(*) FROM pragma_table_info('docs')")).toBe(3n);
    }
    expect(await scalar(engine, "large", "SELECT count(*) FROM docs")).toBe(400n);
    // The large one kept SQLite's journal, with the zeroed header of a finished commit; the small one has
    // no journal at all, and no undo log outlives the job.
    expect(journalHead(large)).toEqual(Buffer.alloc(28));
    expect(journalHead(small)).toBeNull();
    expect(fs.readdirSync(path.join(engine.dir, "undo"))).toEqual([]);
  });

  it("keeps a database's journal between writes, its header zeroed, so no write creates or deletes a file", async () => {
    const engine = await tempEngine();
    await engine.createDatabase("notes", { createGroup: true });
    await engine.execute("notes", "CREATE TABLE notes (body TEXT)");
    const file = engine.getDatabase("notes").path;
    const inode = fs.statSync(`${file}-journal`).ino;
    for (let i = 0; i < 3; i++) await engine.execute("notes", "INSERT INTO notes VALUES ('x')");
    expect(fs.statSync(`${file}-journal`).ino).toBe(inode);
    expect(journalHead(file)).toEqual(Buffer.alloc(28));
    // A zeroed journal is not hot: SQLite opens the file as it is.
    const db = new Database(file, { readonly: true });
    expect(db.prepare("SELECT count(*) FROM notes").pluck().get()).toBe(3);
    db.close();
  });
});
