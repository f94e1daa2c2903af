import { test } from "node:test";
import assert from "node:assert/strict";
import { rfc1123Label } from "../components/lib/validation";

test("rfc1123Label accepts a label and refuses an upper-case one", () => {
  assert.deepEqual(rfc1123Label("ok-name", "f"), []);
  assert.equal(rfc1123Label("Bad", "f").length, 1);
});
