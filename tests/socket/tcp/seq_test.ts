import assert from "node:assert/strict";
import fc from "fast-check";
import {
  seqAdd,
  seqGe,
  seqGt,
  seqInWindow,
  seqLe,
  seqLt,
  seqMax,
  seqMin,
  seqSub,
} from "../../../src/socket/tcp/seq.ts";

Deno.test("seq arithmetic wraps modulo 2^32", () => {
  assert.equal(seqAdd(0xffffffff, 1), 0);
  assert.equal(seqAdd(0, -1), 0xffffffff);
  assert.equal(seqSub(0, 0xffffffff), 1);
  assert.equal(seqSub(0xffffffff, 0), -1);
  assert.ok(seqLt(0xfffffff0, 0x10));
  assert.ok(seqGt(0x10, 0xfffffff0));
  assert.ok(seqLe(5, 5) && seqGe(5, 5) && !seqLt(5, 5) && !seqGt(5, 5));
  assert.equal(seqMax(0xffffffff, 0), 0);
  assert.equal(seqMin(0xffffffff, 0), 0xffffffff);
  assert.ok(seqInWindow(0, 0xfffffffe, 3));
  assert.ok(!seqInWindow(1, 0xfffffffe, 3));
  assert.ok(!seqInWindow(5, 5, 0));
});

Deno.test("seq comparisons agree with integer order for distances below 2^31", () => {
  fc.assert(
    fc.property(fc.nat(0xffffffff), fc.integer({ min: 1, max: 0x7fffffff }), (a, d) => {
      const b = seqAdd(a, d);
      return seqLt(a, b) && seqGt(b, a) && seqSub(b, a) === d && seqMax(a, b) === b &&
        seqInWindow(seqAdd(a, d - 1), a, d);
    }),
  );
});
