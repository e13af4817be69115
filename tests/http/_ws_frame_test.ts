import assert from "node:assert/strict";
import {
  acceptKey,
  closePayload,
  encodeFrame,
  type FrameHead,
  Opcode,
  parseClosePayload,
  parseFrameHead,
  unmask,
  WsProtocolError,
} from "../../src/http/_ws_frame.ts";

const head = (): FrameHead => ({
  fin: false,
  opcode: 0,
  masked: false,
  headLen: 0,
  payloadLen: 0,
  maskAt: 0,
});
const hello = [0x48, 0x65, 0x6c, 0x6c, 0x6f];

/** Parses one frame and returns its head and (unmasked) payload. */
function frame(bytes: number[], expectMasked: boolean): [FrameHead, Uint8Array] {
  const b = new Uint8Array(bytes);
  const h = parseFrameHead(b, 0, b.length, expectMasked, head());
  assert.ok(h !== null);
  const payload = b.slice(h.headLen, h.headLen + h.payloadLen);
  if (h.masked) unmask(payload, b, h.maskAt);
  return [h, payload];
}

Deno.test("RFC 6455 §5.7 examples parse to the documented frames", () => {
  // A single-frame unmasked text message "Hello".
  let [h, p] = frame([0x81, 0x05, ...hello], false);
  assert.deepEqual([h.fin, h.opcode, h.masked, h.payloadLen], [true, Opcode.Text, false, 5]);
  assert.deepEqual([...p], hello);
  // A single-frame masked text message "Hello".
  [h, p] = frame([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58], true);
  assert.deepEqual([h.fin, h.opcode, h.masked, h.headLen], [true, Opcode.Text, true, 6]);
  assert.equal(new TextDecoder().decode(p), "Hello");
  // A fragmented unmasked text message: "Hel" then "lo".
  [h, p] = frame([0x01, 0x03, 0x48, 0x65, 0x6c], false);
  assert.deepEqual([h.fin, h.opcode, [...p]], [false, Opcode.Text, [0x48, 0x65, 0x6c]]);
  [h, p] = frame([0x80, 0x02, 0x6c, 0x6f], false);
  assert.deepEqual([h.fin, h.opcode, [...p]], [true, Opcode.Continuation, [0x6c, 0x6f]]);
  // Unmasked Ping and masked Pong, both "Hello".
  [h, p] = frame([0x89, 0x05, ...hello], false);
  assert.deepEqual([h.opcode, [...p]], [Opcode.Ping, hello]);
  [h, p] = frame([0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58], true);
  assert.deepEqual([h.opcode, [...p]], [Opcode.Pong, hello]);
  // 256 bytes binary in one unmasked frame: a 16-bit length; 64 KiB: a 64-bit length.
  [h] = frame([0x82, 0x7e, 0x01, 0x00, ...new Array(256).fill(0)], false);
  assert.deepEqual([h.opcode, h.headLen, h.payloadLen], [Opcode.Binary, 4, 256]);
  const b = new Uint8Array(10);
  b.set([0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]);
  const h64 = parseFrameHead(b, 0, b.length, false, head());
  assert.deepEqual([h64?.headLen, h64?.payloadLen], [10, 65536]);
});

Deno.test("encodeFrame writes the RFC 6455 §5.7 bytes and masks client frames", () => {
  const text = new TextEncoder().encode("Hello");
  assert.deepEqual([...encodeFrame(Opcode.Text, text, false)], [0x81, 0x05, ...hello]);
  const big = encodeFrame(Opcode.Binary, new Uint8Array(256), false);
  assert.deepEqual([...big.subarray(0, 4)], [0x82, 0x7e, 0x01, 0x00]);
  const huge = encodeFrame(Opcode.Binary, new Uint8Array(65536), false);
  assert.deepEqual([...huge.subarray(0, 10)], [0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]);
  // A masked frame: parses back to the same payload; the key makes the wire bytes differ.
  const masked = encodeFrame(Opcode.Text, text, true);
  assert.equal(masked[1], 0x85);
  const h = parseFrameHead(masked, 0, masked.length, true, head())!;
  const p = masked.slice(h.headLen);
  unmask(p, masked, h.maskAt);
  assert.equal(new TextDecoder().decode(p), "Hello");
});

Deno.test("unmask gives the same bytes at every key phase", () => {
  const key = new Uint8Array([1, 2, 3, 4]);
  const data = Uint8Array.from({ length: 23 }, (_, i) => i * 7);
  const whole = data.slice();
  unmask(whole, key, 0);
  for (let split = 0; split <= data.length; split++) {
    const a = data.slice(0, split);
    const b = data.slice(split);
    unmask(a, key, 0);
    unmask(b, key, 0, split & 3);
    assert.deepEqual([...a, ...b], [...whole], `split at ${split}`);
  }
});

Deno.test("parseFrameHead waits for a whole head and rejects what §5.2 forbids", () => {
  const parse = (bytes: number[], masked = true) =>
    parseFrameHead(new Uint8Array(bytes), 0, bytes.length, masked, head());
  assert.equal(parse([0x81]), null);
  assert.equal(parse([0x81, 0xfe, 0x01]), null); // 16-bit length not all there
  assert.equal(parse([0x81, 0x85, 0x37, 0xfa]), null); // masking key not all there
  const code = (bytes: number[], masked = true) => {
    try {
      parse(bytes, masked);
    } catch (e) {
      assert.ok(e instanceof WsProtocolError);
      return e.code;
    }
    return 0;
  };
  assert.equal(code([0x81, 0x05]), 1002); // unmasked from a client
  assert.equal(code([0x81, 0x85, 0, 0, 0, 0], false), 1002); // masked from a server
  assert.equal(code([0xc1, 0x80, 0, 0, 0, 0]), 1002); // RSV1 without an extension
  assert.equal(code([0x83, 0x80, 0, 0, 0, 0]), 1002); // reserved data opcode 3
  assert.equal(code([0x8b, 0x80, 0, 0, 0, 0]), 1002); // reserved control opcode 0xB
  assert.equal(code([0x09, 0x80, 0, 0, 0, 0]), 1002); // fragmented ping
  assert.equal(code([0x89, 0xfe, 0, 126, 0, 0, 0, 0]), 1002); // ping over 125 bytes
  assert.equal(code([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 1002); // top bit
});

Deno.test("Close payloads: codes and reasons checked as §5.5.1 and §7.4 say", () => {
  assert.deepEqual(parseClosePayload(new Uint8Array(0)), { code: 1005, reason: "" });
  assert.deepEqual(parseClosePayload(closePayload(1000, "bye")), { code: 1000, reason: "bye" });
  assert.deepEqual(parseClosePayload(closePayload(4321, "")), { code: 4321, reason: "" });
  assert.equal(closePayload(1005, "ignored").length, 0);
  const code = (bytes: number[]) => {
    try {
      parseClosePayload(new Uint8Array(bytes));
    } catch (e) {
      return (e as WsProtocolError).code;
    }
    return 0;
  };
  assert.equal(code([0x03]), 1002); // one byte
  for (const c of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000]) {
    assert.equal(code([c >> 8, c & 0xff]), 1002, `code ${c}`);
  }
  assert.equal(code([0x03, 0xe8, 0xff]), 1007); // reason not UTF-8
});

Deno.test("acceptKey gives the RFC 6455 §1.3 example", async () => {
  assert.equal(await acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});
