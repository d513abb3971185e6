import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BACKENDS,
  SEED_PHONE as PHONE,
  type Props,
  ROOT,
  type Step,
  type Suite,
  seedProgram,
  startSuite,
  SEED_TENANTS as TENANTS,
  UNKNOWN,
  SEED_USERS as USERS,
  urnOf,
} from "./harness.js";

/**
 * Detailed diffs name list elements, over gRPC as the engine receives them: an appended migration is
 * `migrations[2]: ADD` (so `pulumi preview --diff` prints that migration's SQL), a removed attach target is
 * `attach[1]: DELETE_REPLACE`; the preview of the update carries how many tenants the migration reaches.
 * The recorded `preview --json` fixtures of the PR-comment renderer hold what this provider returns.
 */

const NOTES = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)";
const local = BACKENDS.find((b) => b.name === "local");

const step = (steps: Step[], name: string) => steps.find((s) => s.name === name);

describe("element-level detailed diffs over gRPC", () => {
  let suite: Suite;
  beforeAll(async () => {
    if (!local) throw new Error("the harness has no local backend");
    suite = await startSuite(local);
    await suite.plugin.configure(suite.fleet.config);
    await suite.stack.up(seedProgram([USERS]));
    // The tenants came after their schema database: the next up records the childCount Diff observes, so
    // what follows shows only the migrations' own diffs.
    await suite.stack.up(seedProgram([USERS]));
  });
  afterAll(() => suite?.stop());

  it("an appended migration is `migrations[i]: ADD`, and its preview says how many tenants it reaches", async () => {
    const steps = await suite.stack.preview(seedProgram([USERS, PHONE]));
    const app = step(steps, "app");
    expect(app?.diff).toMatchObject({
      changes: "SOME",
      diffs: ["migrations"],
      replaces: [],
      hasDetailedDiff: true,
      detailedDiff: { "migrations[1]": "ADD" },
    });
    // The value at that path is the statement the engine prints under it.
    expect(app?.outputs?.migrations).toEqual([USERS, PHONE]);
    expect(app?.outputs).toMatchObject({ schemaVersion: 2, childCount: TENANTS.length });

    const two = step(await suite.stack.preview(seedProgram([USERS, PHONE, NOTES])), "app");
    expect(two?.diff?.detailedDiff).toEqual({ "migrations[1]": "ADD", "migrations[2]": "ADD" });
    expect(two?.outputs?.childCount).toBe(TENANTS.length);
  });

  it("list elements of a replacing property: DELETE_REPLACE, UPDATE_REPLACE, an unknown element, an unknown list", async () => {
    const urn = urnOf("Token", "reader");
    const olds: Props = {
      database: "acme",
      authorization: "read-only",
      expiration: "never",
      attach: ["catalog", "archive"],
    };
    const diff = (attach: unknown) => suite.plugin.diff(urn, "jti-1", olds, olds, { ...olds, attach });

    expect(await diff(["catalog"])).toMatchObject({
      replaces: ["attach"],
      diffs: ["attach"],
      detailedDiff: { "attach[1]": "DELETE_REPLACE" },
    });
    expect((await diff(["catalog", "prices"])).detailedDiff).toEqual({ "attach[1]": "UPDATE_REPLACE" });
    expect((await diff(["catalog", "archive", "prices"])).detailedDiff).toEqual({
      "attach[2]": "ADD_REPLACE",
    });
    expect((await diff(["catalog", UNKNOWN])).detailedDiff).toEqual({ "attach[1]": "UPDATE_REPLACE" });
    expect((await diff(UNKNOWN)).detailedDiff).toEqual({ attach: "UPDATE_REPLACE" });
    expect((await diff(["catalog", "archive"])).changes).toBe("NONE");
  });

  it("the renderer's recorded previews hold the detailed diffs this provider returns", async () => {
    const kinds = (d: Record<string, string>) =>
      Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v.toLowerCase().replace("_", "-")]));
    for (const [file, name] of [
      ["preview-migration.json", "app-schema"],
      ["preview-failure.json", "app-schema"],
      ["preview-replace.json", "shopper-alice-token"],
    ] as const) {
      const digest = JSON.parse(
        fs.readFileSync(path.join(ROOT, "test", "examples", "fixtures", file), "utf8"),
      );
      const recorded = digest.steps.find((s: { urn: string }) => s.urn.endsWith(`::${name}`));
      const type = recorded.newState.type.split(":").pop();
      const got = await suite.plugin.diff(
        urnOf(type, name),
        recorded.oldState.id,
        recorded.oldState.outputs,
        recorded.oldState.inputs,
        recorded.newState.inputs,
      );
      const want = Object.fromEntries(
        Object.entries(recorded.detailedDiff as Record<string, { kind: string }>).map(([k, v]) => [
          k,
          v.kind,
        ]),
      );
      // The recorded old state is not this suite's fleet: outputs Diff observes on the live fleet
      // (schemaVersion, childCount: not input diffs) differ from it and are left out of the comparison.
      const fromInputs = (keys: string[]) => keys.filter((k) => got.inputDiffs?.[k] !== false);
      const inputDetail = Object.fromEntries(
        fromInputs(Object.keys(got.detailedDiff)).map((k) => [k, got.detailedDiff[k] as string]),
      );
      expect(kinds(inputDetail), file).toEqual(want);
      expect(fromInputs(got.diffs), file).toEqual(recorded.diffReasons);
      expect(got.replaces, file).toEqual(recorded.replaceReasons ?? []);
    }
  });
});
