// WebSocket framing (RFC 6455 §5): frame heads, masking, close payloads, the handshake key.

/** Opcodes (RFC 6455 §5.2, §11.8). */
export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

/** Close codes this module sends (RFC 6455 §7.4.1). */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  NoStatus: 1005,
  Abnormal: 1006,
  InvalidData: 1007,
  TooBig: 1009,
  InternalError: 1011,
} as const;

/** A violation by the peer and the close code it earns (RFC 6455 §7.4.1). */
export class WsProtocolError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.name = "WsProtocolError";
    this.code = code;
  }
}

/** A parsed frame head (RFC 6455 §5.2); the payload follows `headLen` bytes in. */
export interface FrameHead {
  fin: boolean;
  opcode: number;
  masked: boolean;
  /** Bytes of the head, masking key included. */
  headLen: number;
  payloadLen: number;
  /** Offset of the 4-byte masking key in the parsed buffer (when `masked`). */
  maskAt: number;
}

/**
 * Parses the frame head at `b[at, end)`, or returns null when more bytes are needed. Rejects
 * what RFC 6455 §5.2 and §5.5 forbid: reserved bits (no extension is negotiated), reserved
 * opcodes, fragmented or long control frames, a 64-bit length with its top bit set, and the
 * wrong masking for the side (`expectMasked`: true on a server, §5.1).
 */
export function parseFrameHead(
  b: Uint8Array,
  at: number,
  end: number,
  expectMasked: boolean,
  out: FrameHead,
): FrameHead | null {
  if (end - at < 2) return null;
  const b0 = b[at]!;
  const b1 = b[at + 1]!;
  if ((b0 & 0x70) !== 0) throw new WsProtocolError(CloseCode.ProtocolError, "Reserved bits set");
  const opcode = b0 & 0x0f;
  const control = (opcode & 0x8) !== 0;
  if (opcode > Opcode.Binary && !(opcode >= Opcode.Close && opcode <= Opcode.Pong)) {
    throw new WsProtocolError(CloseCode.ProtocolError, `Reserved opcode ${opcode}`);
  }
  const fin = (b0 & 0x80) !== 0;
  const masked = (b1 & 0x80) !== 0;
  if (masked !== expectMasked) {
    throw new WsProtocolError(
      CloseCode.ProtocolError,
      expectMasked ? "Unmasked frame from a client" : "Masked frame from a server",
    );
  }
  let len = b1 & 0x7f;
  let headLen = 2;
  if (len === 126) {
    if (end - at < 4) return null;
    len = (b[at + 2]! << 8) | b[at + 3]!;
    headLen = 4;
  } else if (len === 127) {
    if (end - at < 10) return null;
    const hi = ((b[at + 2]! << 24) | (b[at + 3]! << 16) | (b[at + 4]! << 8) | b[at + 5]!) >>> 0;
    const lo = ((b[at + 6]! << 24) | (b[at + 7]! << 16) | (b[at + 8]! << 8) | b[at + 9]!) >>> 0;
    if (hi >= 0x80000000) {
      throw new WsProtocolError(CloseCode.ProtocolError, "Payload length with the top bit set");
    }
    len = hi * 2 ** 32 + lo;
    headLen = 10;
  }
  if (control && (!fin || len > 125)) {
    throw new WsProtocolError(CloseCode.ProtocolError, "Fragmented or long control frame");
  }
  const maskAt = at + headLen;
  if (masked) headLen += 4;
  if (end - at < headLen) return null;
  out.fin = fin;
  out.opcode = opcode;
  out.masked = masked;
  out.headLen = headLen;
  out.payloadLen = len;
  out.maskAt = maskAt;
  return out;
}

/** XORs `data` in place with the 4-byte key at `key[keyAt]`, starting at key byte `phase`. */
export function unmask(data: Uint8Array, key: Uint8Array, keyAt: number, phase = 0): void {
  const n = data.length;
  let i = 0;
  for (; i < n && ((i + phase) & 3) !== 0; i++) {
    data[i] = data[i]! ^ key[keyAt + ((i + phase) & 3)]!;
  }
  // Aligned to the key from here: fixed key bytes, four at a time.
  const k0 = key[keyAt]!, k1 = key[keyAt + 1]!, k2 = key[keyAt + 2]!, k3 = key[keyAt + 3]!;
  for (; i + 4 <= n; i += 4) {
    data[i] = data[i]! ^ k0;
    data[i + 1] = data[i + 1]! ^ k1;
    data[i + 2] = data[i + 2]! ^ k2;
    data[i + 3] = data[i + 3]! ^ k3;
  }
  for (; i < n; i++) data[i] = data[i]! ^ key[keyAt + ((i + phase) & 3)]!;
}

/** Bytes of the head of a frame carrying `len` payload bytes. */
export function frameHeadLen(len: number, masked: boolean): number {
  return (len < 126 ? 2 : len < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

/**
 * Encodes one whole frame (FIN set) into a new buffer: head, then `payload` masked with a fresh
 * random key when `mask` (a client, RFC 6455 §5.3).
 */
export function encodeFrame(opcode: number, payload: Uint8Array, mask: boolean): Uint8Array {
  const len = payload.length;
  const headLen = frameHeadLen(len, mask);
  const out = new Uint8Array(headLen + len);
  out[0] = 0x80 | opcode;
  let at = 2;
  if (len < 126) out[1] = len;
  else if (len < 65536) {
    out[1] = 126;
    out[2] = len >>> 8;
    out[3] = len & 0xff;
    at = 4;
  } else {
    out[1] = 127;
    const hi = Math.floor(len / 2 ** 32);
    out[2] = hi >>> 24;
    out[3] = (hi >>> 16) & 0xff;
    out[4] = (hi >>> 8) & 0xff;
    out[5] = hi & 0xff;
    out[6] = len >>> 24;
    out[7] = (len >>> 16) & 0xff;
    out[8] = (len >>> 8) & 0xff;
    out[9] = len & 0xff;
    at = 10;
  }
  out.set(payload, headLen);
  if (mask) {
    out[1] = out[1]! | 0x80;
    crypto.getRandomValues(out.subarray(at, at + 4));
    unmask(out.subarray(headLen), out, at);
  }
  return out;
}

/**
 * Whether a close code may appear in a Close frame on the wire (RFC 6455 §7.4.1, §7.4.2 and the
 * IANA registry): 1000-1003, 1007-1014, 3000-4999.
 */
export function validWireCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999);
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8 = new TextEncoder();

/** Decodes UTF-8 strictly; invalid bytes are a 1007 (RFC 6455 §8.1). */
export function decodeUtf8(data: Uint8Array): string {
  try {
    return strictUtf8.decode(data);
  } catch {
    throw new WsProtocolError(CloseCode.InvalidData, "Invalid UTF-8 in a text message");
  }
}

/** Parses a Close frame's payload (RFC 6455 §5.5.1): no code is 1005. */
export function parseClosePayload(p: Uint8Array): { code: number; reason: string } {
  if (p.length === 0) return { code: CloseCode.NoStatus, reason: "" };
  if (p.length === 1) throw new WsProtocolError(CloseCode.ProtocolError, "One-byte Close payload");
  const code = (p[0]! << 8) | p[1]!;
  if (!validWireCloseCode(code)) {
    throw new WsProtocolError(CloseCode.ProtocolError, `Invalid close code ${code}`);
  }
  return { code, reason: decodeUtf8(p.subarray(2)) };
}

/** Builds a Close frame's payload; code 1005 sends an empty one. */
export function closePayload(code: number, reason: string): Uint8Array {
  if (code === CloseCode.NoStatus) return new Uint8Array(0);
  const r = utf8.encode(reason);
  const out = new Uint8Array(2 + r.length);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
}

/** The GUID of RFC 6455 §1.3. */
const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` (RFC 6455 §4.2.2 item 5.4). */
export async function acceptKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", utf8.encode(key + WS_GUID));
  return base64(new Uint8Array(digest));
}

/** Standard base64 with padding. */
export function base64(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return btoa(s);
}

/** Whether `key` is base64 of 16 bytes (RFC 6455 §4.1 item 7). */
export function validClientKey(key: string): boolean {
  if (!/^[A-Za-z0-9+/]{22}==$/.test(key)) return false;
  return true;
}
