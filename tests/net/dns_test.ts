import assert from "node:assert/strict";
import type { NetStack, UdpSocket } from "../../mod.ts";
import { DnsError, resolveDns, resolveForConnect, validateHostname } from "../../src/net/dns.ts";
import { DnsCache, dnsCounters, parseHosts } from "../../src/net/dns_cache.ts";
import { Ipv4Address, Ipv6Address } from "../../src/wire/address.ts";
import {
  dnsBufferLen,
  DnsPacket,
  type DnsRecord,
  type DnsRepr,
  DnsType,
  emitDns,
  parseDns,
} from "../../src/wire/dns.ts";
import { stackPair } from "./_helpers.ts";

const SERVER4 = "192.0.2.1";
const SERVER6 = "2001:db8::1";
/** On the link, but nobody answers ARP for it: queries to it time out. */
const SILENT = "192.0.2.99";

interface Entry {
  readonly a?: string[];
  readonly aaaa?: string[];
  readonly cname?: string;
}

const ZONE: Record<string, Entry> = {
  "host.example.net": { a: ["192.0.2.10", "192.0.2.11"], aaaa: ["2001:db8::10"] },
  "v4only.example.net": { a: ["198.51.100.4"] },
  "www.example.net": { cname: "alias.example.net" },
  "alias.example.net": { cname: "host.example.net" },
  "loop.example.net": { cname: "loop.example.net" },
};

type Handler = (query: DnsRepr, from: Deno.NetAddr) => DnsRepr[];

function encode(repr: DnsRepr): Uint8Array {
  const bytes = new Uint8Array(dnsBufferLen(repr));
  emitDns(repr, new DnsPacket(bytes));
  return bytes;
}

function reply(query: DnsRepr, answers: DnsRecord[], rcode = 0, tc = false): DnsRepr {
  return { ...query, qr: true, ra: true, aa: true, rcode, tc, answers };
}

/** Answers from ZONE like a recursive server: the CNAME chain, then the records of the type. */
function zoneAnswer(query: DnsRepr): DnsRepr {
  const q = query.questions[0]!;
  const answers: DnsRecord[] = [];
  let name = q.name.toLowerCase();
  for (let i = 0; i < 20; i++) {
    const e = ZONE[name];
    if (e === undefined) return reply(query, answers, 3);
    if (e.cname === undefined) break;
    answers.push({ name, type: 5, class: 1, ttl: 60, data: { kind: "cname", name: e.cname } });
    name = e.cname;
  }
  const e = ZONE[name]!;
  if (q.type === DnsType.A) {
    for (const a of e.a ?? []) {
      answers.push({
        name,
        type: 1,
        class: 1,
        ttl: 60,
        data: { kind: "a", address: Ipv4Address.parse(a) },
      });
    }
  } else if (q.type === DnsType.AAAA) {
    for (const a of e.aaaa ?? []) {
      answers.push({
        name,
        type: 28,
        class: 1,
        ttl: 60,
        data: { kind: "aaaa", address: Ipv6Address.parse(a) },
      });
    }
  }
  return reply(query, answers);
}

/**
 * An in-process DNS server on `stack`, port 53 on every IPv4 and every IPv6 address: every
 * query is logged and answered with what `handler` returns.
 */
function dnsServer(stack: NetStack, handler: Handler = (q) => [zoneAnswer(q)]) {
  const sockets: UdpSocket[] = [
    stack.listenDatagram({ port: 53 }),
    stack.listenDatagram({ port: 53, hostname: "::" }),
  ];
  const queries: { query: DnsRepr; from: Deno.NetAddr }[] = [];
  const serve = async (socket: UdpSocket) => {
    for await (const [data, from] of socket) {
      const addr = from as Deno.NetAddr;
      const query = parseDns(new DnsPacket(data));
      queries.push({ query, from: addr });
      for (const r of handler(query, addr)) {
        await socket.send(encode(r), addr);
      }
    }
  };
  const done = Promise.all(sockets.map(serve));
  return {
    queries,
    async close() {
      for (const s of sockets) s.close();
      await done;
    },
  };
}

const servers = [SERVER4];
const strings = (addrs: { toString(): string }[]) => addrs.map((a) => a.toString());

Deno.test("resolveDns returns the A records of a name", async () => {
  await using net = stackPair();
  const dns = dnsServer(net.server);
  try {
    const addrs = await resolveDns(net.client, "host.example.net", { servers, family: 4 });
    assert.deepEqual(strings(addrs), ["192.0.2.10", "192.0.2.11"]);
    assert.equal(dns.queries.length, 1);
    assert.deepEqual(dns.queries[0]!.query.questions, [{
      name: "host.example.net",
      type: 1,
      class: 1,
    }]);
    assert.equal(dns.queries[0]!.query.rd, true);
  } finally {
    await dns.close();
  }
});

Deno.test("resolveDns returns the AAAA records of a name over an IPv6 server", async () => {
  await using net = stackPair();
  const dns = dnsServer(net.server);
  try {
    const addrs = await resolveDns(net.client, "host.example.net", {
      servers: [SERVER6],
      family: 6,
    });
    assert.deepEqual(strings(addrs), ["2001:db8::10"]);
    assert.equal(dns.queries[0]!.from.hostname, "2001:db8::2");
  } finally {
    await dns.close();
  }
});

Deno.test("resolveDns asks A and AAAA and lists IPv4 first", async () => {
  await using net = stackPair();
  const dns = dnsServer(net.server);
  try {
    const addrs = await resolveDns(net.client, "HOST.example.net.", { servers });
    assert.deepEqual(strings(addrs), ["192.0.2.10", "192.0.2.11", "2001:db8::10"]);
    assert.deepEqual(dns.queries.map((q) => q.query.questions[0]!.type).sort(), [1, 28]);
    const v4 = await resolveDns(net.client, "v4only.example.net", { servers });
    assert.deepEqual(strings(v4), ["198.51.100.4"]);
  } finally {
    await dns.close();
  }
});

Deno.test("resolveDns follows a CNAME chain within the answer", async () => {
  await using net = stackPair();
  const dns = dnsServer(net.server);
  try {
    const addrs = await resolveDns(net.client, "www.example.net", { servers, family: 4 });
    assert.deepEqual(strings(addrs), ["192.0.2.10", "192.0.2.11"]);
    await assert.rejects(
      resolveDns(net.client, "loop.example.net", { servers, family: 4 }),
      (e: unknown) => e instanceof DnsError && /CNAME chain/.test(e.message),
    );
  } finally {
    await dns.close();
  }
});

Deno.test("resolveDns rejects NXDOMAIN with NotFound and does not retry", async () => {
  await using net = stackPair();
  const dns = dnsServer(net.server);
  try {
    await assert.rejects(
      resolveDns(net.client, "nope.example.net", { servers: [SERVER4, SERVER6] }),
      (e: unknown) =>
        e instanceof Deno.errors.NotFound &&
        e.message === 'Cannot resolve "nope.example.net": NXDOMAIN',
    );
    assert.equal(dns.queries.length, 2); // one A, one AAAA, both to the first server
  } finally {
    await dns.close();
  }
});

Deno.test("resolveDns stops the AAAA lookup when the A lookup gets NXDOMAIN", async () => {
  await using net = stackPair();
  // NXDOMAIN to A queries; AAAA queries are never answered.
  const dns = dnsServer(net.server, (q) => q.questions[0]!.type === 1 ? [reply(q, [], 3)] : []);
  try {
    const started = performance.now();
    await assert.rejects(
      resolveDns(net.client, "nope.example.net", { servers, timeout: 5000 }),
      (e: unknown) => e instanceof Deno.errors.NotFound && /NXDOMAIN/.test(e.message),
    );
    // It did not wait out the unanswered AAAA query's 5 s timeout.
    assert.ok(performance.now() - started < 5000);
  } finally {
    await dns.close();
  }
});

Deno.test("resolveDns times out with TimedOut when no server answers", async () => {
  await using net = stackPair();
  const started = performance.now();
  await assert.rejects(
    resolveDns(net.client, "host.example.net", { servers, timeout: 100, attempts: 2 }),
    (e: unknown) =>
      e instanceof Deno.errors.TimedOut && (e as { code?: string }).code === "ETIMEDOUT" &&
      /timed out after 2 tries/.test(e.message),
  );
  assert.ok(performance.now() - started >= 190);
});

Deno.test("resolveDns retries on timeout with the next server", async () => {
  await using net = stackPair();
  const dns = dnsServer(net.server);
  try {
    const addrs = await resolveDns(net.client, "host.example.net", {
      servers: [SILENT, SERVER4],
      timeout: 100,
      family: 4,
    });
    assert.deepEqual(strings(addrs), ["192.0.2.10", "192.0.2.11"]);
    assert.equal(dns.queries.length, 1);
  } finally {
    await dns.close();
  }
});

Deno.test("resolveDns moves on from a server of a family the stack has no address for", async () => {
  await using net = stackPair({ client: { addresses: ["192.0.2.2/24"] } });
  const dns = dnsServer(net.server);
  try {
    const addrs = await resolveDns(net.client, "host.example.net", {
      servers: [SERVER6, SERVER4],
      family: 4,
      timeout: 300,
    });
    assert.deepEqual(strings(addrs), ["192.0.2.10", "192.0.2.11"]);
  } finally {
    await dns.close();
  }
});

Deno.test("resolveDns moves on from SERVFAIL and reports it when every server fails", async () => {
  await using net = stackPair();
  // SERVFAIL to queries over IPv4, real answers over IPv6.
  const dns = dnsServer(
    net.server,
    (q, from) => [from.hostname.includes(":") ? zoneAnswer(q) : reply(q, [], 2)],
  );
  try {
    const addrs = await resolveDns(net.client, "host.example.net", {
      servers: [SERVER4, SERVER6],
      family: 4,
    });
    assert.deepEqual(strings(addrs), ["192.0.2.10", "192.0.2.11"]);
    await assert.rejects(
      resolveDns(net.client, "host.example.net", { servers: [SERVER4], attempts: 1 }),
      (e: unknown) =>
        e instanceof DnsError && e.rcode === 2 &&
        e.message === 'Cannot resolve "host.example.net": SERVFAIL from 192.0.2.1',
    );
  } finally {
    await dns.close();
  }
});

Deno.test("resolveDns reports a truncated response", async () => {
  await using net = stackPair();
  const dns = dnsServer(net.server, (q) => [reply(q, [], 0, true)]);
  try {
    await assert.rejects(
      resolveDns(net.client, "host.example.net", { servers, family: 4 }),
      (e: unknown) => e instanceof DnsError && /truncated/.test(e.message),
    );
  } finally {
    await dns.close();
  }
});

Deno.test("resolveDns ignores answers with a wrong id, question or source port", async () => {
  await using net = stackPair();
  const spoofer = net.server.listenDatagram({ port: 5353 });
  const bogus = (q: DnsRepr): DnsRecord[] => [{
    name: q.questions[0]!.name,
    type: 1,
    class: 1,
    ttl: 60,
    data: { kind: "a", address: Ipv4Address.parse("203.0.113.66") },
  }];
  const dns = dnsServer(net.server, (q, from) => {
    // A correct answer from the wrong port, sent first.
    spoofer.send(encode(reply(q, bogus(q))), from).catch(() => {});
    return [
      reply({ ...q, id: q.id ^ 1 }, bogus(q)),
      reply({ ...q, questions: [{ ...q.questions[0]!, name: "evil.example.net" }] }, bogus(q)),
      reply({ ...q, questions: [{ ...q.questions[0]!, type: 28 }] }, []),
      { ...zoneAnswer(q), qr: false },
      zoneAnswer(q),
    ];
  });
  try {
    const addrs = await resolveDns(net.client, "host.example.net", { servers, family: 4 });
    assert.deepEqual(strings(addrs), ["192.0.2.10", "192.0.2.11"]);
  } finally {
    await dns.close();
    spoofer.close();
  }
});

Deno.test("resolveDns times out when only spoofed answers arrive", async () => {
  await using net = stackPair();
  const dns = dnsServer(net.server, (q) => [reply({ ...q, id: q.id ^ 0x8000 }, [])]);
  try {
    await assert.rejects(
      resolveDns(net.client, "host.example.net", { servers, family: 4, timeout: 100, attempts: 1 }),
      Deno.errors.TimedOut,
    );
    assert.equal(dns.queries.length, 1);
  } finally {
    await dns.close();
  }
});

Deno.test("resolveDns uses a fresh random id and source port for each query", async () => {
  await using net = stackPair();
  const dns = dnsServer(net.server);
  try {
    for (let i = 0; i < 6; i++) {
      await resolveDns(net.client, "host.example.net", { servers, family: 4 });
    }
    const ids = new Set(dns.queries.map((q) => q.query.id));
    const ports = new Set(dns.queries.map((q) => q.from.port));
    assert.ok(ids.size >= 5, `ids ${[...ids]}`);
    assert.ok(ports.size >= 5, `ports ${[...ports]}`);
  } finally {
    await dns.close();
  }
});

Deno.test("resolveDns returns an IP literal without a query", async () => {
  await using net = stackPair();
  const dns = dnsServer(net.server);
  try {
    assert.deepEqual(strings(await resolveDns(net.client, "192.0.2.77", { servers })), [
      "192.0.2.77",
    ]);
    assert.deepEqual(strings(await resolveDns(net.client, "2001:db8::5", { servers })), [
      "2001:db8::5",
    ]);
    assert.deepEqual(strings(await resolveDns(net.client, "[2001:db8::6]", { servers })), [
      "2001:db8::6",
    ]);
    await assert.rejects(resolveDns(net.client, "192.0.2.77", { servers, family: 6 }), TypeError);
    assert.equal(dns.queries.length, 0);
  } finally {
    await dns.close();
  }
});

Deno.test("resolveDns rejects malformed hostnames and options with TypeError or RangeError", async () => {
  await using net = stackPair();
  for (
    const bad of ["", ".", "a..b", "a b.net", "x".repeat(64) + ".net", "é.net", "a".repeat(254)]
  ) {
    await assert.rejects(resolveDns(net.client, bad, { servers }), TypeError, bad);
  }
  await assert.rejects(resolveDns(net.client, "a.net", { servers: [] }), TypeError);
  await assert.rejects(resolveDns(net.client, "a.net", { servers: ["dns.example"] }), TypeError);
  await assert.rejects(resolveDns(net.client, "a.net", { servers, timeout: 0 }), RangeError);
  await assert.rejects(resolveDns(net.client, "a.net", { servers, attempts: 0 }), RangeError);
  assert.equal(validateHostname("_srv.Example-1.net."), "_srv.Example-1.net");
});

Deno.test("resolveDns rejects with the signal's reason when aborted", async () => {
  await using net = stackPair();
  const controller = new AbortController();
  const pending = resolveDns(net.client, "host.example.net", {
    servers,
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(), 20);
  await assert.rejects(pending, (e: unknown) => (e as Error).name === "AbortError");
});

Deno.test("resolveForConnect keeps the usable families, IPv4 first", async () => {
  await using net = stackPair();
  const dns = dnsServer(net.server);
  try {
    const six = await resolveForConnect(net.client, "host.example.net", {
      servers,
      families: [6],
    });
    assert.deepEqual(strings(six), ["2001:db8::10"]);
    assert.ok(dns.queries.every((q) => q.query.questions[0]!.type === 28));
    const both = await resolveForConnect(net.client, "host.example.net", { servers });
    assert.deepEqual(strings(both), ["192.0.2.10", "192.0.2.11", "2001:db8::10"]);
    await assert.rejects(
      resolveForConnect(net.client, "v4only.example.net", { servers, families: [6] }),
      Deno.errors.NotFound,
    );
  } finally {
    await dns.close();
  }
});

/** A DNS-over-TCP server on `stack` port 53 (RFC 1035 §4.2.2 framing): one query per stream. */
function tcpDnsServer(stack: NetStack, handler: (q: DnsRepr) => DnsRepr = zoneAnswer) {
  const listener = stack.listen({ port: 53 });
  const queries: DnsRepr[] = [];
  const done = (async () => {
    for await (const conn of listener) {
      const buf = new Uint8Array(2 + 0xffff);
      let have = 0;
      while (have < 2 || have < 2 + ((buf[0]! << 8) | buf[1]!)) {
        const n = await conn.read(buf.subarray(have));
        if (n === null) break;
        have += n;
      }
      const query = parseDns(new DnsPacket(buf.subarray(2, have)));
      queries.push(query);
      const out = encode(handler(query));
      const framed = new Uint8Array(2 + out.length);
      framed[0] = out.length >>> 8;
      framed[1] = out.length & 0xff;
      framed.set(out, 2);
      await conn.write(framed);
      conn.close();
    }
  })();
  return {
    queries,
    async close() {
      listener.close();
      await done.catch(() => {});
    },
  };
}

Deno.test("resolveDns asks again over TCP when the UDP answer is truncated (RFC 7766)", async () => {
  await using net = stackPair();
  const udp = dnsServer(net.server, (q) => [reply(q, [], 0, true)]);
  const tcp = tcpDnsServer(net.server);
  const counters = dnsCounters();
  try {
    assert.deepEqual(
      strings(await resolveDns(net.client, "www.example.net", { servers, family: 4, counters })),
      ["192.0.2.10", "192.0.2.11"],
    );
    assert.equal(udp.queries.length, 1);
    assert.equal(tcp.queries.length, 1);
    assert.equal(tcp.queries[0]!.questions[0]!.name, "www.example.net");
    assert.equal(counters.tcpRetries, 1);
  } finally {
    await tcp.close();
    await udp.close();
  }
});

Deno.test("resolveDns ignores and counts mismatched ids and compression loops", async () => {
  await using net = stackPair();
  const dns = dnsServer(net.server);
  const loop = (q: DnsRepr): Uint8Array => {
    // The header and question of a real answer, then an answer whose name points at itself.
    const head = encode({ ...reply(q, []), answers: [] });
    head[7] = 1; // ANCOUNT = 1
    const at = head.length;
    const rr = Uint8Array.of(
      0xc0 | (at >> 8),
      at & 0xff,
      0,
      1,
      0,
      1,
      0,
      0,
      0,
      60,
      0,
      4,
      1,
      2,
      3,
      4,
    );
    const out = new Uint8Array(at + rr.length);
    out.set(head);
    out.set(rr, at);
    return out;
  };
  const server = net.server.listenDatagram({ port: 54 });
  const serving = (async () => {
    for await (const [data, from] of server) {
      const q = parseDns(new DnsPacket(data));
      await server.send(encode(reply({ ...q, id: q.id ^ 1 }, [])), from);
      await server.send(loop(q), from);
      await server.send(encode(zoneAnswer(q)), from);
    }
  })();
  const counters = dnsCounters();
  try {
    assert.deepEqual(
      strings(
        await resolveDns(net.client, "v4only.example.net", {
          servers,
          port: 54,
          family: 4,
          counters,
        }),
      ),
      ["198.51.100.4"],
    );
    assert.equal(counters.mismatchedId, 1);
    assert.equal(counters.malformed, 1);
  } finally {
    server.close();
    await serving.catch(() => {});
    await dns.close();
  }
});

Deno.test("resolveDns answers from the cache until the smallest TTL of the chain ends", async () => {
  await using net = stackPair();
  const dns = dnsServer(net.server);
  let now = 0;
  const cache = new DnsCache({ clock: () => now });
  const counters = dnsCounters();
  const ask = () =>
    resolveDns(net.client, "www.example.net", { servers, family: 4, cache, counters });
  try {
    assert.deepEqual(strings(await ask()), ["192.0.2.10", "192.0.2.11"]);
    now = 59_999;
    assert.deepEqual(strings(await ask()), ["192.0.2.10", "192.0.2.11"]);
    assert.equal(dns.queries.length, 1);
    assert.equal(counters.cacheHits, 1);
    now = 60_000; // every record of the zone has TTL 60
    await ask();
    assert.equal(dns.queries.length, 2);
    assert.equal(counters.cacheMisses, 2);
  } finally {
    await dns.close();
  }
});

Deno.test("resolveDns caches NXDOMAIN for the SOA's negative TTL (RFC 2308)", async () => {
  await using net = stackPair();
  // SOA of example.net: TTL 300, MINIMUM 30: the negative TTL is 30 s.
  const soaRdata = Uint8Array.of(
    0,
    0,
    ...[0, 0, 0, 1],
    ...[0, 0, 0, 2],
    ...[0, 0, 0, 3],
    ...[0, 0, 0, 4],
    ...[0, 0, 0, 30],
  );
  const dns = dnsServer(net.server, (q) => [{
    ...reply(q, [], 3),
    authorities: [{
      name: "example.net",
      type: 6,
      class: 1,
      ttl: 300,
      data: { kind: "raw", bytes: soaRdata },
    }],
  }]);
  let now = 0;
  const cache = new DnsCache({ clock: () => now });
  const ask = () =>
    assert.rejects(
      resolveDns(net.client, "nope.example.net", { servers, family: 4, cache }),
      (e: unknown) => e instanceof Deno.errors.NotFound && /NXDOMAIN/.test(e.message),
    );
  try {
    await ask();
    now = 29_999;
    await ask();
    assert.equal(dns.queries.length, 1);
    now = 30_000;
    await ask();
    assert.equal(dns.queries.length, 2);
  } finally {
    await dns.close();
  }
});

Deno.test("resolveDns answers static hosts entries without a query", async () => {
  await using net = stackPair();
  const hosts = parseHosts("192.0.2.77 db.example.net db\n2001:db8::77 db.example.net\n");
  assert.deepEqual(
    strings(await resolveDns(net.client, "DB.example.net", { servers: [SILENT], hosts })),
    ["192.0.2.77", "2001:db8::77"],
  );
  assert.deepEqual(
    strings(await resolveDns(net.client, "db", { servers: [SILENT], hosts, family: 4 })),
    ["192.0.2.77"],
  );
});

Deno.test("NetStack.connect resolves static hosts and caches server answers", async () => {
  await using net = stackPair({
    client: { dnsServers: [SERVER4], hosts: parseHosts(`${SERVER4} peer.static`) },
  });
  const dns = dnsServer(net.server, (q) => [
    reply(q, [{
      name: q.questions[0]!.name,
      type: q.questions[0]!.type,
      class: 1,
      ttl: 300,
      data: q.questions[0]!.type === DnsType.A
        ? { kind: "a", address: Ipv4Address.parse(SERVER4) }
        : { kind: "aaaa", address: Ipv6Address.parse(SERVER6) },
    }]),
  ]);
  const listener = net.server.listen({ port: 80 });
  try {
    for (const name of ["peer.static", "peer.example.net", "peer.example.net"]) {
      const conn = await net.client.connect({ hostname: name, port: 80 });
      (await listener.accept()).close();
      conn.close();
    }
    // Static entry: no query. Server answer: A and AAAA asked once, then from the cache.
    assert.deepEqual(dns.queries.map((q) => q.query.questions[0]!.name), [
      "peer.example.net",
      "peer.example.net",
    ]);
    assert.equal(net.client.dnsCounters.cacheHits, 2);
  } finally {
    listener.close();
    await dns.close();
  }
});
