/**
 * One bulk TCP transfer between two `Interface`s over `linkPair` on virtual time (no async
 * layer, device checksums on), for benches that compare two checkouts (`core_ab.ts`) or the same
 * code with and without a trace recorder (`trace_overhead.ts`). The modules come in as a
 * {@linkcode CoreModules}, so a bench can load them from another checkout.
 *
 * @module
 */

import process from "node:process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

/** The module namespaces a transfer needs, from this checkout or another. */
export interface CoreModules {
  readonly name: string;
  // deno-lint-ignore no-explicit-any
  readonly iface: any;
  // deno-lint-ignore no-explicit-any
  readonly socket: any;
  // deno-lint-ignore no-explicit-any
  readonly phy: any;
  // deno-lint-ignore no-explicit-any
  readonly wire: any;
}

/** Loads the core modules of the checkout at `root`. */
export async function loadCore(name: string, root: string): Promise<CoreModules> {
  const at = (p: string) => import(pathToFileURL(resolve(root, p)).href);
  return {
    name,
    iface: await at("src/iface/mod.ts"),
    socket: await at("src/socket/mod.ts"),
    phy: await at("src/phy/mod.ts"),
    wire: await at("src/wire/mod.ts"),
  };
}

/**
 * Sends `bytes` from a client `TcpSocket` to a listener's child; `onClient` sees the client
 * before it connects (to attach a recorder) and after the transfer (`done` true); `iface` is
 * added to both interfaces' config (a checkout that lacks an option ignores it).
 *
 * @returns [MB/s by wall time, MB/s by process CPU time].
 */
export function coreTransfer(
  t: CoreModules,
  mtu: number,
  bytes: number,
  // deno-lint-ignore no-explicit-any
  onClient?: (client: any, done: boolean) => void,
  iface: Record<string, unknown> = {},
): [number, number] {
  const [da, db] = t.phy.linkPair({ mtu });
  const a = new t.iface.Interface({ addresses: ["192.0.2.1/24"], seed: 1, ...iface });
  const b = new t.iface.Interface({ addresses: ["192.0.2.2/24"], seed: 2, ...iface });
  const sa = new t.iface.SocketSet(), sb = new t.iface.SocketSet();
  const listener = new t.socket.TcpListenSocket(
    { addr: t.wire.Ipv4Address.UNSPECIFIED, port: 80 },
    { socket: { rxBufferSize: 1 << 20 } },
  );
  a.listenTcp(sa, listener);
  const client = new t.socket.TcpSocket({ txBufferSize: 1 << 20 });
  onClient?.(client, false);
  b.connectTcp(sb, client, { addr: t.wire.Ipv4Address.parse("192.0.2.1"), port: 80 }, {}, 0);
  const chunk = new Uint8Array(1 << 16).fill(7);
  const sink = new Uint8Array(1 << 16);
  let sent = 0, got = 0;
  // deno-lint-ignore no-explicit-any
  let server: any = null;
  const w0 = performance.now();
  const c0 = process.cpuUsage();
  for (let now = 0; got < bytes; now++) {
    b.poll(now, db, sb);
    a.poll(now, da, sa);
    server ??= listener.accept();
    while (sent < bytes && client.maySend) {
      const n = client.send(chunk.subarray(0, Math.min(chunk.length, bytes - sent)));
      if (n === 0) break;
      sent += n;
    }
    if (server !== null) {
      let n;
      while ((n = server.recv(sink)) > 0) got += n;
    }
  }
  const cpu = process.cpuUsage(c0);
  const wall = performance.now() - w0;
  onClient?.(client, true);
  return [bytes / 1e3 / wall, bytes / ((cpu.user + cpu.system) / 1e6) / 1e6];
}
