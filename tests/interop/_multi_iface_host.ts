// The smolnet side of multi_interface_test.ts, run inside the test's host namespace: one
// NetStack on two TUN devices (interface 0: 192.0.2.1/24 and 2001:db8:1::1/64; interface 1:
// 198.51.100.1/24 and 2001:db8:2::1/64 with an MTU of 1280; both fe80::1/64). It serves an echo on port 7 on every
// address and a listener on 192.0.2.1:9 only, prints "ready", then once the file named by its
// third argument exists fetches /blob.bin with HTTP/1.0 from port 8000 of each address in its
// fourth argument (comma-separated, link-local ones with a zone, "/port" for another port) and prints one JSON line per fetch, then "done". Every
// accepted connection is printed as JSON too. On SIGTERM it prints both interfaces' counters as
// its last line and exits.
import { NetStack, TunTapDevice } from "../../mod.ts";

const [nameA, nameB, goFile, targets] = Deno.args;
const a = await TunTapDevice.open({ name: nameA!, mode: "tun" });
const b = await TunTapDevice.open({ name: nameB!, mode: "tun" });
// The same link-local address on both: only a zone (fe80::2%0, fe80::2%1) picks the link.
const stack = new NetStack({
  device: a,
  addresses: ["192.0.2.1/24", "2001:db8:1::1/64", "fe80::1/64"],
});
stack.addInterface({
  device: b,
  addresses: ["198.51.100.1/24", "2001:db8:2::1/64", "fe80::1/64"],
  mtu: 1280,
});
Deno.addSignalListener("SIGTERM", () => {
  console.log(
    JSON.stringify({ counters: [stack.interfaceCounters(0), stack.interfaceCounters(1)] }),
  );
  Deno.exit(0);
});

async function echo(listener: ReturnType<NetStack["listen"]>): Promise<void> {
  for await (const conn of listener) {
    console.log(
      JSON.stringify({ accepted: conn.localAddr.hostname, from: conn.remoteAddr.hostname }),
    );
    void (async () => {
      const buf = new Uint8Array(4096);
      for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
        await conn.write(buf.subarray(0, n));
      }
      conn.close();
    })();
  }
}
void echo(stack.listen({ port: 7 }));
void echo(stack.listen({ port: 7, hostname: "::" }));
void echo(stack.listen({ port: 9, hostname: "192.0.2.1" }));
console.log("ready");

for (;;) {
  try {
    await Deno.stat(goFile!);
    break;
  } catch {
    await new Promise((r) => setTimeout(r, 25));
  }
}
for (const target of targets!.split(",")) {
  const [host, port] = target.split("/"); // "fe80::2%0/8001": another port than 8000
  const conn = await stack.connect({ hostname: host!, port: Number(port ?? 8000) });
  await conn.write(new TextEncoder().encode(`GET /blob.bin HTTP/1.0\r\nHost: x\r\n\r\n`));
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
    parts.push(buf.slice(0, n));
  }
  const all = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  const text = new TextDecoder("latin1").decode(all.subarray(0, 2048));
  const head = text.indexOf("\r\n\r\n") + 4;
  const body = all.subarray(head);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
  console.log(JSON.stringify({
    fetched: host,
    status: text.slice(0, 12),
    local: conn.localAddr.hostname,
    mss: conn.info.mss,
    bytes: body.length,
    sha256: [...digest].map((x) => x.toString(16).padStart(2, "0")).join(""),
  }));
  conn.close();
}
console.log("done");
