// Nothing thrown while the loop polls escapes it (issue 14): one forced failure per layer.
import assert from "node:assert/strict";
import { DeviceWrapper, linkPair, NetStack } from "../../mod.ts";
import type { TcpStream } from "../../mod.ts";

/** A device that throws from `receive` once `broken` is set. */
class Breakable extends DeviceWrapper {
  broken = false;
  override receive(now: number): Uint8Array | null {
    if (this.broken) throw new Error("driver bug");
    return super.receive(now);
  }
}

async function connected(
  serverDevice: ConstructorParameters<typeof NetStack>[0]["device"],
  clientDevice: ConstructorParameters<typeof NetStack>[0]["device"],
) {
  const server = new NetStack({ device: serverDevice, addresses: ["192.0.2.1/24"], seed: 1 });
  const client = new NetStack({ device: clientDevice, addresses: ["192.0.2.2/24"], seed: 2 });
  const listener = server.listen({ port: 7 });
  const accepted = listener.accept();
  const conn = await client.connect({ hostname: "192.0.2.1", port: 7 });
  const peer: TcpStream = await accepted;
  return { server, client, listener, conn, peer };
}

function nextError(stack: NetStack): Promise<ErrorEvent> {
  return new Promise((resolve) => stack.addEventListener("error", (e) => resolve(e as ErrorEvent)));
}

Deno.test("NetStack fails, rejects waiters and dispatches error when the device throws", async () => {
  const [a, b] = linkPair();
  const dev = new Breakable(a);
  const { server, client, listener, conn, peer } = await connected(dev, b);
  const onerror: ErrorEvent[] = [];
  server.onerror = (e) => onerror.push(e);
  const event = nextError(server);
  const read = peer.read(new Uint8Array(10));
  dev.broken = true;
  await conn.write(new Uint8Array([1])); // a frame arrives: the server's poll calls receive
  const e = await read.catch((e) => e);
  assert.ok(e instanceof Deno.errors.ConnectionAborted, String(e));
  assert.equal((e as { code?: string }).code, "ECONNABORTED");
  assert.equal((e as Error & { cause?: Error }).cause?.message, "driver bug");
  const ev = await event;
  assert.equal(ev.error, e);
  assert.equal(onerror.length, 1);
  assert.equal(server.deviceError, e);
  assert.throws(() => server.listen({ port: 8 }), Deno.errors.ConnectionAborted);
  // The other stack on the link is unaffected.
  assert.equal(client.deviceError, null);
  conn.close();
  listener.close();
  peer.close();
  await client.close();
  await server.close();
});

Deno.test("NetStack fails instead of throwing when the interface's poll throws", async () => {
  const [a, b] = linkPair();
  const { server, client, conn, peer } = await connected(a, b);
  const event = nextError(server);
  const accepting = server.listen({ port: 9 }).accept();
  Object.defineProperty(server.iface, "poll", {
    value: () => {
      throw new TypeError("interface bug");
    },
  });
  await conn.write(new Uint8Array([1]));
  const ev = await event;
  assert.ok(ev.error instanceof Deno.errors.ConnectionAborted);
  assert.equal((ev.error as Error & { cause: Error }).cause.message, "interface bug");
  assert.equal(await accepting.catch((e) => e), ev.error);
  conn.close();
  peer.close();
  await client.close();
  await server.close();
});

Deno.test("A socket that throws while dispatching fails its caller, not the process", async () => {
  const [a, b] = linkPair();
  const { server, client, listener, conn, peer } = await connected(a, b);
  const reading = conn.read(new Uint8Array(10));
  Object.defineProperty(conn.socket, "dispatch", {
    value: () => {
      throw new RangeError("socket bug");
    },
  });
  conn.setNoDelay(true);
  await conn.write(new Uint8Array([1, 2, 3])).catch(() => {});
  const e = await reading.then(() => null, (e) => e);
  assert.ok(e instanceof Deno.errors.ConnectionAborted, String(e));
  peer.close();
  listener.close();
  await client.close();
  await server.close();
});
