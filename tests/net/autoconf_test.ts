import assert from "node:assert/strict";
import { type AutoconfEvent, linkPair, NetStack, type UdpSocket } from "../../mod.ts";
import { Ipv4Address } from "../../src/wire/address.ts";
import {
  dhcpv4BufferLen,
  Dhcpv4MessageType,
  Dhcpv4Op,
  Dhcpv4Packet,
  type Dhcpv4Repr,
  dhcpv4ReprDefaults,
  emitDhcpv4,
  parseDhcpv4,
} from "../../src/wire/dhcpv4.ts";
import {
  dnsBufferLen,
  DnsPacket,
  type DnsRepr,
  DnsType,
  emitDns,
  parseDns,
} from "../../src/wire/dns.ts";

const SERVER = Ipv4Address.parse("192.0.2.1");
const LEASED = Ipv4Address.parse("192.0.2.63");

interface ServerOptions {
  readonly leaseTime: number;
  readonly renewalTime?: number;
  readonly rebindingTime?: number;
  /** Answer a REQUEST with ciaddr set (a renewal) with NAK. */
  readonly nakRenewals?: boolean;
  /** The interface MTU option (RFC 2132 §5.1) of offers and ACKs. */
  readonly interfaceMtu?: number;
}

/** A minimal DHCP server on a stack's UDP port 67: one address, answers everything. */
async function serveDhcp(udp: UdpSocket, options: ServerOptions, seen: Dhcpv4Repr[]) {
  for await (const [data] of udp) {
    let req: Dhcpv4Repr;
    try {
      req = parseDhcpv4(new Dhcpv4Packet(data));
    } catch {
      continue;
    }
    seen.push(req);
    const renewal = !req.clientIp.isUnspecified;
    const type = req.messageType === Dhcpv4MessageType.Discover
      ? Dhcpv4MessageType.Offer
      : renewal && options.nakRenewals
      ? Dhcpv4MessageType.Nak
      : Dhcpv4MessageType.Ack;
    const nak = type === Dhcpv4MessageType.Nak;
    const reply: Dhcpv4Repr = {
      ...dhcpv4ReprDefaults(),
      op: Dhcpv4Op.Reply,
      messageType: type,
      transactionId: req.transactionId,
      broadcast: req.broadcast,
      clientHardwareAddress: req.clientHardwareAddress,
      clientIp: req.clientIp,
      yourIp: nak ? Ipv4Address.UNSPECIFIED : LEASED,
      serverIdentifier: SERVER,
      ...(nak ? {} : {
        leaseTime: options.leaseTime,
        renewalTime: options.renewalTime ?? null,
        rebindingTime: options.rebindingTime ?? null,
        subnetMask: Ipv4Address.parse("255.255.255.0"),
        routers: [SERVER],
        dnsServers: [SERVER],
        domainName: "example.net",
        interfaceMtu: options.interfaceMtu ?? null,
      }),
    };
    const bytes = new Uint8Array(dhcpv4BufferLen(reply));
    emitDhcpv4(reply, new Dhcpv4Packet(bytes));
    // RFC 2131 §4.1: broadcast while the client has no address, unicast to ciaddr after.
    const hostname = renewal && !nak ? req.clientIp.toString() : "255.255.255.255";
    await udp.send(bytes, { transport: "udp", hostname, port: 68 });
  }
}

function setup(options: ServerOptions) {
  const [a, b] = linkPair();
  const server = new NetStack({ device: a, addresses: ["192.0.2.1/24"], seed: 1 });
  const client = new NetStack({ device: b, addresses: "auto", seed: 2 });
  const udp = server.listenDatagram({ port: 67 });
  const seen: Dhcpv4Repr[] = [];
  const serving = serveDhcp(udp, options, seen).catch(() => {});
  const events: AutoconfEvent[] = [];
  client.autoconf!.addEventListener("change", (e) => events.push(e as AutoconfEvent));
  return {
    server,
    client,
    seen,
    events,
    async [Symbol.asyncDispose]() {
      await client.close();
      udp.close();
      await serving;
      await server.close();
    },
  };
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function nextChange(client: NetStack, change: string): Promise<AutoconfEvent> {
  return new Promise((resolve) => {
    const on = (e: Event) => {
      if ((e as AutoconfEvent).change !== change) return;
      client.autoconf!.removeEventListener("change", on);
      resolve(e as AutoconfEvent);
    };
    client.autoconf!.addEventListener("change", on);
  });
}

Deno.test("NetStack with addresses auto takes a DHCP lease and connects through it", async () => {
  await using t = setup({ leaseTime: 3600 });
  assert.equal(t.client.autoconf!.state, "init");
  await within(t.client.configured, 10_000, "configured");
  const autoconf = t.client.autoconf!;
  assert.equal(autoconf.state, "bound");
  assert.deepEqual(t.client.iface.routes.addresses.map(String), ["192.0.2.63/24"]);
  assert.deepEqual(
    t.client.iface.routes.routes.map((r) => `${r.cidr} via ${r.via}`),
    ["0.0.0.0/0 via 192.0.2.1"],
  );
  assert.deepEqual(autoconf.dnsServers.map(String), ["192.0.2.1"]);
  assert.deepEqual(t.events.map((e) => e.change), ["addressAdded", "routerChanged", "dnsChanged"]);
  assert.equal(t.events[0]!.address?.toString(), "192.0.2.63/24");
  assert.deepEqual(
    t.seen.map((m) => m.messageType),
    [Dhcpv4MessageType.Discover, Dhcpv4MessageType.Request],
  );
  // linkPair is an IP medium: no hardware address, so a random type-0 client identifier.
  const id = t.seen[0]!.clientIdentifier!;
  assert.equal(id.length, 9);
  assert.equal(id[0], 0);
  assert.deepEqual(t.seen[1]!.clientIdentifier, id);
  const listener = t.server.listen({ port: 80 });
  const conn = await t.client.connect({ hostname: "192.0.2.1", port: 80 });
  const peer = await listener.accept();
  assert.equal((peer.remoteAddr as Deno.NetAddr).hostname, "192.0.2.63");
  peer.close();
  conn.close();
  listener.close();
});

Deno.test("NetStack with addresses auto renews its lease by unicast at T1", async () => {
  await using t = setup({ leaseTime: 6, renewalTime: 1, rebindingTime: 5 });
  await within(t.client.configured, 10_000, "configured");
  const renewed = await within(nextChange(t.client, "leaseRenewed"), 10_000, "renewal");
  assert.equal(renewed.lease?.address.toString(), "192.0.2.63/24");
  const renewal = t.seen.at(-1)!;
  assert.equal(renewal.messageType, Dhcpv4MessageType.Request);
  assert.equal(renewal.clientIp.toString(), "192.0.2.63");
  assert.deepEqual(t.client.iface.routes.addresses.map(String), ["192.0.2.63/24"]);
});

Deno.test("NetStack with addresses auto drops its address when a renewal is refused", async () => {
  await using t = setup({ leaseTime: 6, renewalTime: 1, rebindingTime: 5, nakRenewals: true });
  await within(t.client.configured, 10_000, "configured");
  const removed = await within(nextChange(t.client, "addressRemoved"), 10_000, "NAK");
  assert.equal(removed.address?.toString(), "192.0.2.63/24");
  assert.equal(removed.lease, null);
  assert.deepEqual(t.client.iface.routes.addresses, []);
  assert.deepEqual(t.client.iface.routes.routes, []);
  assert.deepEqual(t.client.autoconf!.dnsServers, []);
});

Deno.test("NetStack configured ends in TimedOut when no DHCP server answers, then keeps trying", async () => {
  const [a, b] = linkPair();
  const server = new NetStack({ device: a, addresses: ["192.0.2.1/24"], seed: 1 });
  const client = new NetStack({
    device: b,
    addresses: "auto",
    seed: 2,
    autoconf: { timeout: 300 },
  });
  try {
    await assert.rejects(
      within(client.configured, 10_000, "timeout"),
      (e: unknown) =>
        e instanceof Deno.errors.TimedOut && (e as { code?: string }).code === "ETIMEDOUT" &&
        // The message names the configured timeout, not what was left of it when first asked.
        e.message.includes("(autoconf.timeout: 300 ms)"),
    );
    assert.equal(client.autoconf!.state, "selecting");
    // A server that comes up later still configures the stack.
    const udp = server.listenDatagram({ port: 67 });
    const serving = serveDhcp(udp, { leaseTime: 3600 }, []).catch(() => {});
    // The next DISCOVER leaves 4 s ± 1 s after the first.
    const added = await within(nextChange(client, "addressAdded"), 10_000, "late lease");
    assert.equal(added.address?.toString(), "192.0.2.63/24");
    assert.equal(client.autoconf!.state, "bound");
    await client.configured; // resolved at once now
    await client.close();
    udp.close();
    await serving;
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("NetStack rejects a bad autoconf timeout with RangeError", async () => {
  const [a] = linkPair();
  assert.throws(
    () => new NetStack({ device: a, addresses: "auto", autoconf: { timeout: -1 } }),
    RangeError,
  );
  // The device was left free: a stack on it works.
  await using stack = new NetStack({ device: a, addresses: ["192.0.2.2/24"] });
  assert.equal(stack.autoconf, null);
});

Deno.test("NetStack with addresses auto connects to a single-label name in the lease's domain", async () => {
  await using t = setup({ leaseTime: 3600 });
  const dns = t.server.listenDatagram({ port: 53 });
  const asked: string[] = [];
  const answering = (async () => {
    for await (const [data, from] of dns) {
      const q = parseDns(new DnsPacket(data));
      const question = q.questions[0]!;
      asked.push(question.name);
      const found = question.name === "peer.example.net" && question.type === DnsType.A;
      const r: DnsRepr = {
        ...q,
        qr: true,
        ra: true,
        rcode: found || question.name === "peer.example.net" ? 0 : 3,
        answers: found
          ? [{
            name: question.name,
            type: 1,
            class: 1,
            ttl: 60,
            data: { kind: "a", address: SERVER },
          }]
          : [],
      };
      const out = new Uint8Array(dnsBufferLen(r));
      emitDns(r, new DnsPacket(out));
      await dns.send(out, from);
    }
  })();
  try {
    await within(t.client.configured, 10_000, "configured");
    const listener = t.server.listen({ port: 80 });
    const conn = await t.client.connect({ hostname: "peer", port: 80 });
    (await listener.accept()).close();
    conn.close();
    listener.close();
    assert.deepEqual(asked, ["peer.example.net"]);
  } finally {
    dns.close();
    await answering.catch(() => {});
  }
});

Deno.test("NetStack with addresses auto bounds the IP MTU by the lease's interface MTU", async () => {
  await using t = setup({ leaseTime: 3600, interfaceMtu: 1400 });
  assert.equal(t.client.iface.linkMtu, null);
  await within(t.client.configured, 10_000, "configured");
  assert.equal(t.client.iface.linkMtu, 1400);
});
