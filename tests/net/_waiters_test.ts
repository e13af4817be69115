import assert from "node:assert/strict";
import { takeFirst } from "../../src/net/_waiters.ts";

Deno.test("takeFirst takes waiters first in, first out, the last one included", () => {
  const list: string[] = ["a", "b", "c"];
  assert.equal(takeFirst(list), "a");
  assert.equal(takeFirst(list), "b");
  list.push("d");
  assert.equal(takeFirst(list), "c");
  assert.equal(takeFirst(list), "d");
  assert.equal(list.length, 0);
  assert.equal(takeFirst(list), undefined);
  list.push("e");
  assert.equal(takeFirst(list), "e");
});
