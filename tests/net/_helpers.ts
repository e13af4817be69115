import { linkPair, NetStack, type NetStackOptions, type TcpStream } from "../../mod.ts";

/** Two stacks over an in-memory link: `server` at 192.0.2.1 / 2001:db8::1, `client` at .2 / ::2. */
export function stackPair(
  options: { server?: Partial<NetStackOptions>; client?: Partial<NetStackOptions>; mtu?: number } =
    {},
): { server: NetStack; client: NetStack; [Symbol.asyncDispose](): Promise<void> } {
  const [a, b] = linkPair({ mtu: options.mtu ?? 1500 });
  const server = new NetStack({
    device: a,
    addresses: ["192.0.2.1/24", "2001:db8::1/64"],
    seed: 1,
    ...options.server,
  });
  const client = new NetStack({
    device: b,
    addresses: ["192.0.2.2/24", "2001:db8::2/64"],
    seed: 2,
    ...options.client,
  });
  return {
    server,
    client,
    async [Symbol.asyncDispose]() {
      await client.close();
      await server.close();
    },
  };
}

/** Writes all of `data`. */
export async function writeAll(conn: TcpStream, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/** Reads until EOF and returns everything. */
export async function readAll(conn: TcpStream, chunk = 65536): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(chunk);
  while (true) {
    const n = await conn.read(buf);
    if (n === null) break;
    parts.push(buf.slice(0, n));
    total += n;
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Deterministic pseudo-random bytes. */
export function pattern(len: number, seed = 1): Uint8Array {
  const out = new Uint8Array(len);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** SHA-256 as hex. */
export async function sha256(data: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}
