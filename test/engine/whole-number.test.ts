import { describe, expect, it } from "vitest";
import { wholeNumber } from "../../engine/whole-number.js";

/** The one reading of a whole number that options, environment variables and query parameters share. */
describe("wholeNumber", () => {
  it("takes decimal digits in range, and nothing that Number() would also take", () => {
    expect(wholeNumber("0")).toBe(0);
    expect(wholeNumber("007")).toBe(7);
    expect(wholeNumber("9007199254740991")).toBe(Number.MAX_SAFE_INTEGER);
    expect(wholeNumber("64", 1, 64)).toBe(64);
    for (const text of [
      "",
      " 5",
      "5 ",
      "1e3",
      "0x10",
      "5.0",
      "-1",
      "+5",
      "9007199254740992",
      "1".repeat(17),
    ]) {
      expect(wholeNumber(text), JSON.stringify(text)).toBeUndefined();
    }
    expect(wholeNumber("0", 1, 64)).toBeUndefined();
    expect(wholeNumber("65", 1, 64)).toBeUndefined();
  });
});
