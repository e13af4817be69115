import assert from "node:assert/strict";
import { dnsBufferLen, DnsPacket, emitDns, parseDns } from "../../src/wire/dns.ts";
import { Ipv4Address } from "../../src/wire/address.ts";
import { stackPair } from "./_helpers.ts";

Deno.test("NetStack.connect resolves a host name through dnsServers", async () => {
  await using net = stackPair({ client: { dnsServers: ["192.0.2.1"] } });
  const udp = net.server.listenDatagram({ port: 53 });
  const serving = (async () => {
    for await (const [data, from] of udp) {
      const q = parseDns(new DnsPacket(data));
      const answers = q.questions[0]!.type === 1
        ? [{
          name: q.questions[0]!.name,
          type: 1,
          class: 1,
          ttl: 60,
          data: { kind: "a" as const, address: Ipv4Address.parse("192.0.2.1") },
        }]
        : [];
      const r = { ...q, qr: true, ra: true, answers };
      const out = new Uint8Array(dnsBufferLen(r));
      emitDns(r, new DnsPacket(out));
      await udp.send(out, from);
    }
  })();
  const listener = net.server.listen({ port: 80 });
  const conn = await net.client.connect({ hostname: "www.example.net", port: 80 });
  assert.equal(conn.remoteAddr.hostname, "192.0.2.1");
  (await listener.accept()).close();
  conn.close();
  listener.close();
  await assert.rejects(net.client.connect({ hostname: "bad..name", port: 80 }), TypeError);
  udp.close();
  await serving;
});

Deno.test("NetStack.connect without dnsServers still rejects names with TypeError", async () => {
  await using net = stackPair();
  await assert.rejects(net.client.connect({ hostname: "www.example.net", port: 80 }), TypeError);
});
