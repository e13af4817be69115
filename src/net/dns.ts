/**
 * A stub resolver (RFC 1035 §7, RFC 1123 §6.1.3) over a {@linkcode NetStack}'s UDP: A and
 * AAAA queries to recursive servers, with a random id and a random source port per try
 * (RFC 5452 §9.2), answers accepted only from the queried server with the same id and
 * question, CNAME chains followed within the answer, and retries on timeout with the next
 * server. A truncated answer is asked again over TCP (RFC 7766 §5) through the stack's own
 * TCP. With a {@linkcode DnsCache}, answers are kept for their TTL and failures for the
 * negative TTL of RFC 2308; static `hosts` entries are answered before any query.
 *
 * @module
 */

import { checkInteger, checkPort, checkTimeout } from "../_validate.ts";
import { type IpAddress, parseIpAddress } from "../wire/address.ts";
import {
  dnsBufferLen,
  DnsClass,
  dnsNameEquals,
  DnsPacket,
  DnsRcode,
  type DnsRepr,
  DnsType,
  emitDns,
  parseDns,
} from "../wire/dns.ts";
import { abortError, netError } from "./errors.ts";
import type { DnsCache, DnsCounters, DnsHosts } from "./dns_cache.ts";
import type { NetStack } from "./stack.ts";
import type { TcpStream } from "./tcp_stream.ts";
import type { UdpSocket } from "./udp_socket.ts";

/** Most CNAME records followed from the question name. */
const MAX_CNAME_CHAIN = 16;
/** Tries to find a free random source port before falling back to the stack's choice. */
const PORT_TRIES = 8;
const EPHEMERAL_MIN = 1024;
/** The NotFound errors that stand for an NXDOMAIN response. */
const NXDOMAIN_ERRORS = new WeakSet<Error>();

/**
 * Options of {@linkcode resolveDns}.
 *
 * @example
 * ```ts
 * import { DnsCache, dnsCounters, linkPair, NetStack, parseHosts } from "@smol/net";
 * import { resolveDns, type ResolveOptions } from "@smol/net/net";
 * import assert from "node:assert/strict";
 * const [device] = linkPair();
 * await using stack = new NetStack({ device, addresses: ["192.0.2.2/24"] });
 * const cache = new DnsCache();
 * cache.put("gone.example.net", 1, { kind: "nxdomain" }, 60); // type 1: A
 * const options: ResolveOptions = {
 *   servers: ["192.0.2.53"], timeout: 1000, family: 4, cache, counters: dnsCounters(),
 *   hosts: parseHosts("192.0.2.10 db.example.net"),
 * };
 * const [db] = await resolveDns(stack, "db.example.net", options); // from hosts
 * assert.equal(db?.toString(), "192.0.2.10");
 * await assert.rejects(resolveDns(stack, "gone.example.net", options), Deno.errors.NotFound); // cached
 * assert.equal(options.counters?.cacheHits, 1);
 * ```
 */
export interface ResolveOptions {
  /** Recursive servers to ask, in order (IP literals or addresses). At least one. */
  readonly servers: readonly (string | IpAddress)[];
  /** Milliseconds to wait for each try (default 2000). */
  readonly timeout?: number;
  /** Rounds over the server list, like resolv.conf's `attempts` (default 2). */
  readonly attempts?: number;
  /** `4` asks only for A records, `6` only for AAAA; by default both. */
  readonly family?: 4 | 6;
  /** The servers' port (default 53). */
  readonly port?: number;
  /** Aborts the lookup and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Answers and failures to reuse and to keep (RFC 2308 negative caching). */
  readonly cache?: DnsCache;
  /** Static entries (see `parseHosts`), answered before the cache and the servers. */
  readonly hosts?: DnsHosts;
  /** Counts ignored responses, TCP retries, timeouts and cache use. */
  readonly counters?: DnsCounters;
}

/**
 * A lookup that failed with a response code other than NXDOMAIN (SERVFAIL, REFUSED, ...),
 * with a malformed or truncated response, or with a CNAME chain that is too long.
 *
 * @example
 * ```ts
 * import { DnsError } from "@smol/net/net";
 * import assert from "node:assert/strict";
 * const e = new DnsError("example.com", 'Cannot resolve "example.com": SERVFAIL', 2);
 * assert.equal(e.name, "DnsError");
 * assert.equal(e.hostname, "example.com");
 * assert.equal(e.rcode, 2); // SERVFAIL
 * assert.ok(e instanceof Error);
 * ```
 */
export class DnsError extends Error {
  /** The name that was looked up. */
  readonly hostname: string;
  /** The response code when a server answered with one, else `null`. */
  readonly rcode: number | null;

  /**
   * Creates the error.
   *
   * @param hostname The name that was looked up.
   * @param message The message, `Cannot resolve "name": why`.
   * @param rcode The response code, or `null`.
   */
  constructor(hostname: string, message: string, rcode: number | null = null) {
    super(message);
    this.name = "DnsError";
    this.hostname = hostname;
    this.rcode = rcode;
  }
}

/**
 * Checks that `hostname` is a syntactically valid host name: 1–253 characters without the
 * optional trailing dot, dot-separated labels of 1–63 letters, digits, `-` or `_`.
 *
 * @param hostname The name.
 * @returns The name without its trailing dot.
 * @throws {TypeError} When the name is malformed.
 *
 * @example
 * ```ts
 * import { validateHostname } from "@smol/net/net";
 * import assert from "node:assert/strict";
 * assert.equal(validateHostname("www.example.com."), "www.example.com");
 * assert.throws(() => validateHostname("bad..example.com"), TypeError);
 * assert.throws(() => validateHostname("sp ace.example.com"), TypeError);
 * ```
 */
export function validateHostname(hostname: string): string {
  if (typeof hostname !== "string") {
    throw new TypeError(`Invalid hostname "${String(hostname)}": expected a string`);
  }
  const name = hostname.endsWith(".") ? hostname.slice(0, -1) : hostname;
  if (name.length === 0) throw new TypeError(`Invalid hostname "${hostname}": empty name`);
  if (name.length > 253) {
    throw new TypeError(`Invalid hostname "${hostname}": longer than 253 characters`);
  }
  for (const label of name.split(".")) {
    if (label.length === 0) throw new TypeError(`Invalid hostname "${hostname}": empty label`);
    if (label.length > 63) {
      throw new TypeError(`Invalid hostname "${hostname}": label longer than 63 characters`);
    }
    if (!/^[A-Za-z0-9_-]+$/.test(label)) {
      throw new TypeError(`Invalid hostname "${hostname}": bad character in label "${label}"`);
    }
  }
  return name;
}

/**
 * Resolves `hostname` to its addresses: IPv4 (A) answers first, then IPv6 (AAAA), each in the
 * server's order, without duplicates. An IP literal resolves to itself without a query.
 *
 * Each try opens a UDP socket on a random port, sends the query with a random id, and accepts
 * only a response from the server's address and port with the same id and question; anything
 * else is ignored (counted in `counters.mismatchedId` / `counters.malformed`). A try that
 * times out, or a server that answers SERVFAIL/REFUSED, moves on to the next server,
 * `attempts` times round the list: with no answer at all the lookup ends in
 * `Deno.errors.TimedOut` after `timeout × attempts × servers` milliseconds (default 2 s × 2 per
 * server). A truncated response is asked again over TCP to the same server, within the same
 * `timeout`. A and AAAA are looked up in parallel; the lookup succeeds when either gives
 * addresses.
 *
 * @param stack The stack whose UDP carries the queries.
 * @param hostname A host name or an IP literal.
 * @param options Servers, timeout per try, attempts, family, port and signal.
 * @returns The addresses (at least one).
 * @throws {TypeError} When the hostname or an option is malformed.
 * @throws {Deno.errors.NotFound} On NXDOMAIN, or when the name has no address of the family.
 * @throws {Deno.errors.TimedOut} When no server answered in time.
 * @throws {DnsError} On SERVFAIL/REFUSED from every server.
 *
 * @example
 * ```ts
 * import { linkPair, NetStack } from "@smol/net";
 * import { resolveDns } from "@smol/net/net";
 * import { dnsBufferLen, DnsPacket, type DnsRepr, emitDns, Ipv4Address, parseDns } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = linkPair();
 * await using dns = new NetStack({ device: a, addresses: ["192.0.2.53/24"] });
 * await using stack = new NetStack({ device: b, addresses: ["192.0.2.2/24"] });
 * const server = dns.listenDatagram({ port: 53 });
 * (async () => { // a tiny server: every name is 192.0.2.80
 *   for await (const [bytes, from] of server) {
 *     const q = parseDns(new DnsPacket(bytes));
 *     const address = Ipv4Address.parse("192.0.2.80");
 *     const answers = q.questions[0]?.type === 1
 *       ? [{ name: q.questions[0].name, type: 1, class: 1, ttl: 60, data: { kind: "a" as const, address } }]
 *       : [];
 *     const reply: DnsRepr = { ...q, qr: true, ra: true, answers };
 *     const out = new Uint8Array(dnsBufferLen(reply));
 *     emitDns(reply, new DnsPacket(out));
 *     await server.send(out, from);
 *   }
 * })();
 * const addrs = await resolveDns(stack, "www.example.net", { servers: ["192.0.2.53"] });
 * assert.deepEqual(addrs.map(String), ["192.0.2.80"]);
 * assert.deepEqual((await resolveDns(stack, "192.0.2.7", { servers: ["192.0.2.53"] })).map(String), ["192.0.2.7"]);
 * server.close();
 * ```
 */
export async function resolveDns(
  stack: NetStack,
  hostname: string,
  options: ResolveOptions,
): Promise<IpAddress[]> {
  const family = options.family;
  if (family !== undefined && family !== 4 && family !== 6) {
    throw new TypeError(`Invalid family "${String(family)}": expected 4 or 6`);
  }
  const literal = parseLiteral(hostname);
  if (literal !== null) {
    if (family !== undefined && literal.version !== family) {
      throw new TypeError(`Invalid hostname "${hostname}": not an IPv${family} address`);
    }
    return [literal];
  }
  const name = validateHostname(hostname);
  const fromHosts = (options.hosts?.get(name.toLowerCase()) ?? []).filter((a) =>
    family === undefined || a.version === family
  );
  if (fromHosts.length > 0) return [...fromHosts];
  const servers = options.servers.map((s) => {
    if (typeof s !== "string") return s;
    try {
      return parseIpAddress(s);
    } catch {
      throw new TypeError(`Invalid DNS server "${s}": expected an IP address`);
    }
  });
  if (servers.length === 0) throw new TypeError("Invalid DNS servers: at least one is required");
  const timeout = checkTimeout("timeout", options.timeout ?? 2000);
  const attempts = checkInteger("attempts", options.attempts ?? 2, 1, 100);
  const port = checkPort("port", options.port ?? 53, 1);
  const signal = options.signal;
  if (signal?.aborted) throw abortError(signal);
  // NXDOMAIN for one type answers the other too (RFC 8020): it cancels the other lookup.
  const nxdomain = new AbortController();
  const both = signal === undefined ? nxdomain.signal : AbortSignal.any([signal, nxdomain.signal]);
  const q: Query = {
    stack,
    name,
    servers,
    timeout,
    attempts,
    port,
    signal: both,
    cache: options.cache ?? null,
    counters: options.counters ?? null,
  };
  const types = family === 4
    ? [DnsType.A]
    : family === 6
    ? [DnsType.AAAA]
    : [DnsType.A, DnsType.AAAA];
  const results = await Promise.allSettled(types.map((t) =>
    lookup(q, t).catch((e: unknown) => {
      if (NXDOMAIN_ERRORS.has(e as Error)) nxdomain.abort();
      throw e;
    })
  ));
  const out: IpAddress[] = [];
  const seen = new Set<string>();
  for (const r of results) {
    if (r.status !== "fulfilled") continue;
    for (const a of r.value) {
      const key = a.toString();
      if (!seen.has(key)) {
        seen.add(key);
        out.push(a);
      }
    }
  }
  if (out.length > 0) return out;
  // No addresses: an abort wins, then a hard failure (timeout, SERVFAIL, TC), then NotFound.
  const errors = results.flatMap((r) => r.status === "rejected" ? [r.reason as unknown] : []);
  if (signal?.aborted) throw abortError(signal);
  const nx = errors.find((e) => NXDOMAIN_ERRORS.has(e as Error));
  if (nx !== undefined) throw nx;
  const hard = errors.find((e) => !(e instanceof Deno.errors.NotFound));
  if (hard !== undefined) throw hard;
  if (errors.length > 0) throw errors[0];
  throw new Deno.errors.NotFound(`Cannot resolve "${name}": no addresses`);
}

/**
 * Addresses to try for `NetStack.connect`: {@linkcode resolveDns}'s answer restricted to the
 * families in `families` (the stack's own address families), IPv4 first. An IP literal comes
 * back as itself. A name without a dot is first tried in each of the `search` domains (as
 * resolv.conf's `search` with `ndots:1`), then as it is.
 *
 * @param stack The stack whose UDP carries the queries.
 * @param hostname A host name or an IP literal.
 * @param options As for {@linkcode resolveDns}, plus the families the stack can reach and the
 * search domains (for example the DHCP lease's domain name).
 * @returns The addresses to try in order (at least one).
 * @throws {Deno.errors.NotFound} When no address of a usable family exists.
 *
 * @example
 * ```ts
 * import { linkPair, NetStack, parseHosts } from "@smol/net";
 * import { resolveForConnect } from "@smol/net/net";
 * import assert from "node:assert/strict";
 * const [device] = linkPair();
 * await using stack = new NetStack({ device, addresses: ["192.0.2.2/24"] });
 * const [first] = await resolveForConnect(stack, "db", {
 *   servers: ["192.0.2.53"],
 *   hosts: parseHosts("192.0.2.10 db.example.net\n2001:db8::10 db.example.net"),
 *   search: ["example.net"], // "db" is tried as "db.example.net" first
 *   families: [4],
 * });
 * assert.equal(first?.toString(), "192.0.2.10");
 * ```
 */
export async function resolveForConnect(
  stack: NetStack,
  hostname: string,
  options: ResolveOptions & {
    readonly families?: readonly (4 | 6)[];
    readonly search?: readonly string[];
  },
): Promise<IpAddress[]> {
  const families = options.families ?? [4, 6];
  let family: 4 | 6 | undefined = options.family;
  if (family === undefined && families.length === 1) family = families[0];
  const { families: _, search = [], ...rest } = options;
  const resolveOptions = { ...rest, ...(family ? { family } : {}) };
  let addrs: IpAddress[] | null = null;
  if (!hostname.includes(".") && parseLiteral(hostname) === null) {
    for (const domain of search) {
      try {
        addrs = await resolveDns(stack, `${hostname}.${domain}`, resolveOptions);
        break;
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
  }
  addrs ??= await resolveDns(stack, hostname, resolveOptions);
  const usable = addrs.filter((a) => families.includes(a.version));
  if (usable.length === 0) {
    throw new Deno.errors.NotFound(
      `Cannot resolve "${hostname}": no IPv${families.join("/IPv")} address`,
    );
  }
  return [...usable.filter((a) => a.version === 4), ...usable.filter((a) => a.version === 6)];
}

interface Query {
  readonly stack: NetStack;
  readonly name: string;
  readonly servers: readonly IpAddress[];
  readonly timeout: number;
  readonly attempts: number;
  readonly port: number;
  readonly signal: AbortSignal | undefined;
  readonly cache: DnsCache | null;
  readonly counters: DnsCounters | null;
}

function parseLiteral(hostname: string): IpAddress | null {
  if (typeof hostname !== "string") return null;
  const text = hostname.startsWith("[") && hostname.endsWith("]")
    ? hostname.slice(1, -1)
    : hostname;
  try {
    return parseIpAddress(text);
  } catch {
    return null;
  }
}

function random16(): number {
  return crypto.getRandomValues(new Uint16Array(1))[0]!;
}

const RCODE_NAMES: Record<number, string> = {
  [DnsRcode.FormErr]: "FORMERR",
  [DnsRcode.ServFail]: "SERVFAIL",
  [DnsRcode.NotImp]: "NOTIMP",
  [DnsRcode.Refused]: "REFUSED",
};

function nxdomainError(name: string): Error {
  const e = new Deno.errors.NotFound(`Cannot resolve "${name}": NXDOMAIN`);
  NXDOMAIN_ERRORS.add(e);
  return e;
}

function noDataError(name: string, type: number): Error {
  const kind = type === DnsType.A ? "A" : "AAAA";
  return new Deno.errors.NotFound(`Cannot resolve "${name}": no ${kind} records`);
}

/** One record type: the cache, then every server `attempts` times round, until one answers. */
async function lookup(q: Query, type: number): Promise<IpAddress[]> {
  const cached = q.cache?.get(q.name, type) ?? null;
  if (cached !== null) {
    if (q.counters) q.counters.cacheHits++;
    if (cached.kind === "addresses") return [...cached.addresses];
    throw cached.kind === "nxdomain" ? nxdomainError(q.name) : noDataError(q.name, type);
  }
  if (q.counters) q.counters.cacheMisses++;
  let lastError: Error | null = null;
  let timedOut = 0;
  for (let round = 0; round < q.attempts; round++) {
    for (const server of q.servers) {
      if (q.signal?.aborted) throw abortError(q.signal);
      let response: DnsRepr | null;
      try {
        response = await exchange(q, server, type);
        if (response !== null && response.tc) {
          // RFC 7766 §5: a truncated UDP answer is asked again over TCP.
          if (q.counters) q.counters.tcpRetries++;
          response = await exchangeTcp(q, server, type).catch((e: unknown) => {
            if (q.signal?.aborted || e instanceof DnsError) throw e;
            throw new DnsError(
              q.name,
              `Cannot resolve "${q.name}": truncated response from ${server}, and TCP failed: ${
                (e as Error).message
              }`,
            );
          });
        }
      } catch (e) {
        // A server this stack cannot reach (no address or route of its family, TCP refused):
        // the next one.
        if (q.signal?.aborted || e instanceof Deno.errors.BadResource) throw e;
        lastError = e as Error;
        continue;
      }
      if (response === null) {
        if (q.counters) q.counters.timeouts++;
        timedOut++;
        continue;
      }
      const rcode = response.rcode;
      if (rcode === DnsRcode.NXDomain) {
        const ttl = negativeTtl(response);
        if (ttl !== null) q.cache?.put(q.name, type, { kind: "nxdomain" }, ttl);
        throw nxdomainError(q.name);
      }
      if (response.tc) {
        throw new DnsError(q.name, `Cannot resolve "${q.name}": truncated response over TCP`);
      }
      if (rcode !== DnsRcode.NoError) {
        const what = RCODE_NAMES[rcode] ?? `rcode ${rcode}`;
        lastError = new DnsError(
          q.name,
          `Cannot resolve "${q.name}": ${what} from ${server}`,
          rcode,
        );
        continue;
      }
      const found = addressesOf(q.name, response, type);
      if (found.addresses.length === 0) {
        const ttl = negativeTtl(response);
        if (ttl !== null) q.cache?.put(q.name, type, { kind: "nodata" }, ttl);
        throw noDataError(q.name, type);
      }
      q.cache?.put(q.name, type, { kind: "addresses", addresses: found.addresses }, found.ttl);
      return found.addresses;
    }
  }
  if (lastError !== null) throw lastError;
  const tries = timedOut === 1 ? "1 try" : `${timedOut} tries`;
  throw netError("TimedOut", `Cannot resolve "${q.name}": timed out after ${tries}`);
}

/**
 * RFC 2308 §5: the TTL of a negative answer is the smaller of the SOA record's TTL and its
 * MINIMUM field (the last 4 bytes of the SOA rdata); `null` without an SOA in the authority.
 */
function negativeTtl(response: DnsRepr): number | null {
  for (const rr of response.authorities) {
    if (rr.type !== DnsType.SOA || rr.data.kind !== "raw") continue;
    const b = rr.data.bytes;
    if (b.length < 22) continue; // two names of at least 1 byte and five 32-bit fields
    const o = b.length - 4;
    const minimum = ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
    return Math.min(rr.ttl, minimum);
  }
  return null;
}

/**
 * Follows the CNAME chain from the question name and collects the records of `type`, with the
 * smallest TTL of the records used (RFC 2181 §5.2).
 */
function addressesOf(
  name: string,
  response: DnsRepr,
  type: number,
): { addresses: IpAddress[]; ttl: number } {
  let owner = name;
  let ttl = Infinity;
  for (let hops = 0;; hops++) {
    const alias = response.answers.find((rr) =>
      rr.data.kind === "cname" && rr.class === DnsClass.IN && dnsNameEquals(rr.name, owner)
    );
    if (alias === undefined || alias.data.kind !== "cname") break;
    if (hops >= MAX_CNAME_CHAIN) {
      throw new DnsError(
        name,
        `Cannot resolve "${name}": CNAME chain longer than ${MAX_CNAME_CHAIN}`,
      );
    }
    ttl = Math.min(ttl, alias.ttl);
    owner = alias.data.name;
  }
  const addresses: IpAddress[] = [];
  for (const rr of response.answers) {
    if (rr.type !== type || !dnsNameEquals(rr.name, owner)) continue;
    if (rr.data.kind === "a" || rr.data.kind === "aaaa") {
      addresses.push(rr.data.address);
      ttl = Math.min(ttl, rr.ttl);
    }
  }
  return { addresses, ttl: addresses.length === 0 ? 0 : ttl };
}

/** A socket on a random port (RFC 5452 §9.2) of the server's IP version. */
function openSocket(stack: NetStack, server: IpAddress): UdpSocket {
  const hostname = server.version === 4 ? "0.0.0.0" : "::";
  for (let i = 0; i < PORT_TRIES; i++) {
    const port = EPHEMERAL_MIN + (random16() % (65536 - EPHEMERAL_MIN));
    try {
      return stack.listenDatagram({ port, hostname });
    } catch (e) {
      if (!(e instanceof Deno.errors.AddrInUse)) throw e;
    }
  }
  return stack.listenDatagram({ port: 0, hostname });
}

function buildQuery(name: string, type: number): DnsRepr {
  return {
    id: random16(),
    qr: false,
    opcode: 0,
    aa: false,
    tc: false,
    rd: true,
    ra: false,
    rcode: 0,
    questions: [{ name, type, class: DnsClass.IN }],
    answers: [],
    authorities: [],
    additionals: [],
  };
}

const TIMEOUT = Symbol("timeout");

/** Resolves with TIMEOUT after `q.timeout`, rejects on abort; `dispose` clears both. */
function deadline(q: Query): { stop: Promise<typeof TIMEOUT>; dispose(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<typeof TIMEOUT>((resolve, reject) => {
    timer = setTimeout(() => resolve(TIMEOUT), q.timeout);
    if (q.signal !== undefined) {
      const signal = q.signal;
      onAbort = () => reject(abortError(signal));
      signal.addEventListener("abort", onAbort, { once: true });
    }
  });
  stop.catch(() => {});
  return {
    stop,
    dispose() {
      clearTimeout(timer);
      if (onAbort !== undefined) q.signal?.removeEventListener("abort", onAbort);
    },
  };
}

/**
 * One try over UDP: sends the query from a fresh random port and waits up to `q.timeout` for
 * a matching response. Resolves with `null` on timeout.
 */
async function exchange(q: Query, server: IpAddress, type: number): Promise<DnsRepr | null> {
  const query = buildQuery(q.name, type);
  const bytes = new Uint8Array(dnsBufferLen(query));
  emitDns(query, new DnsPacket(bytes));
  const socket = openSocket(q.stack, server);
  const d = deadline(q);
  try {
    const sent = await Promise.race([
      socket.send(bytes, { transport: "udp", hostname: server.toString(), port: q.port }),
      d.stop,
    ]);
    if (sent === TIMEOUT) return null;
    while (true) {
      const got = await Promise.race([socket.receive(), d.stop]);
      if (got === TIMEOUT) return null;
      const [data, from] = got;
      if (from.port !== q.port || !sameAddress(from.hostname, server)) {
        if (q.counters) q.counters.mismatchedId++;
        continue;
      }
      const response = parseResponse(data);
      if (response === null) {
        if (q.counters) q.counters.malformed++;
        continue;
      }
      if (!matches(response, query)) {
        if (q.counters) q.counters.mismatchedId++;
        continue;
      }
      return response;
    }
  } finally {
    d.dispose();
    socket.close();
  }
}

/**
 * One try over TCP (RFC 7766, RFC 1035 §4.2.2: a two-byte length before each message) through
 * the stack's own TCP. Resolves with `null` on timeout.
 */
async function exchangeTcp(q: Query, server: IpAddress, type: number): Promise<DnsRepr | null> {
  const query = buildQuery(q.name, type);
  const len = dnsBufferLen(query);
  const bytes = new Uint8Array(2 + len);
  bytes[0] = len >>> 8;
  bytes[1] = len & 0xff;
  emitDns(query, new DnsPacket(bytes.subarray(2)));
  const d = deadline(q);
  const abort = new AbortController();
  d.stop.then(() => abort.abort(), () => abort.abort());
  let conn: TcpStream | null = null;
  try {
    const c = await Promise.race([
      q.stack.connect({ hostname: server.toString(), port: q.port, signal: abort.signal }),
      d.stop,
    ]);
    if (c === TIMEOUT) return null;
    conn = c;
    for (let off = 0; off < bytes.length;) {
      const n = await Promise.race([conn.write(bytes.subarray(off)), d.stop]);
      if (n === TIMEOUT) return null;
      off += n;
    }
    const buf = new Uint8Array(2 + 0xffff);
    let have = 0;
    let want = 2;
    while (have < want) {
      const n = await Promise.race([conn.read(buf.subarray(have)), d.stop]);
      if (n === TIMEOUT) return null;
      if (n === null) {
        throw new DnsError(q.name, `Cannot resolve "${q.name}": ${server} closed the TCP stream`);
      }
      have += n;
      if (want === 2 && have >= 2) want = 2 + ((buf[0]! << 8) | buf[1]!);
    }
    const response = parseResponse(buf.subarray(2, want));
    if (response === null || !matches(response, query)) {
      if (q.counters) response === null ? q.counters.malformed++ : q.counters.mismatchedId++;
      throw new DnsError(q.name, `Cannot resolve "${q.name}": bad TCP response from ${server}`);
    }
    return response;
  } finally {
    d.dispose();
    abort.abort();
    conn?.close();
  }
}

function sameAddress(hostname: string, server: IpAddress): boolean {
  try {
    return parseIpAddress(hostname).equals(server);
  } catch {
    return false;
  }
}

function parseResponse(data: Uint8Array): DnsRepr | null {
  try {
    return parseDns(new DnsPacket(data));
  } catch {
    return null; // malformed: ignored like a stray datagram
  }
}

/** RFC 5452 §9.1: same id, a response to a standard query, the same question. */
function matches(response: DnsRepr, query: DnsRepr): boolean {
  if (!response.qr || response.id !== query.id || response.opcode !== 0) return false;
  const a = response.questions[0];
  const b = query.questions[0]!;
  return response.questions.length === 1 && a !== undefined && a.type === b.type &&
    a.class === b.class && dnsNameEquals(a.name, b.name);
}
