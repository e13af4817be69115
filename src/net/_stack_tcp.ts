/**
 * `NetStack.listen` and `NetStack.connect`: TCP listeners (plain and transparent) and outgoing
 * connections, with host names resolved through the stack's DNS settings.
 *
 * @module
 */

import { TcpListenSocket } from "../socket/tcp/listener.ts";
import { TcpSocket } from "../socket/tcp/socket.ts";
import { monotonicNow } from "../time.ts";
import { formatEndpoint, type IpAddress, type IpEndpoint, Ipv4Address } from "../wire/address.ts";
import { checkBoolean, checkOneOf, checkOptions, checkSignal } from "../_validate.ts";
import { awaitConnect, watchHandshake } from "./_connect.ts";
import type { ConnectOptions, ListenOptions } from "./options.ts";
import { abortError, coreError, fromCoreError } from "./errors.ts";
import { checkBacklog, checkHostname, checkPort, parseHost, tryParseIp } from "./_options.ts";
import { TcpListener } from "./tcp_listener.ts";
import { TcpStream } from "./tcp_stream.ts";
import { resolveForConnect } from "./dns.ts";
import type { NetStack } from "./stack.ts";
import type { StackState } from "./_stack_state.ts";
import { connectVia, ifaceFor, ownsAddress, splitZone, zoneOf } from "./_stack_ifaces.ts";
import { selectSourceAddress } from "../iface/source_address.ts";
import {
  isTransparent,
  listenTransparentTcp,
  type TransparentListenOptions,
} from "./transparent.ts";

/** Options of `connectTcp` without a local port (never modified). */
const NO_OPTIONS = {};

/** `NetStack.listen`. */
export function listen(
  s: StackState,
  options: ListenOptions | TransparentListenOptions,
): TcpListener {
  s.checkOpen();
  if (isTransparent(options)) {
    const t = listenTransparentTcp(
      s.acceptAnys(),
      s.host,
      options as TransparentListenOptions,
      s.tcpOptions,
      s.backlog,
    );
    s.listeners.add(t);
    s.driver.wake();
    return t;
  }
  const o = checkOptions("options", options as ListenOptions, true);
  if (o.transport !== undefined) checkOneOf("transport", o.transport, ["tcp"]);
  if (o.fastOpen !== undefined) checkBoolean("fastOpen", o.fastOpen);
  const port = checkPort("port", o.port, 0);
  const name = checkHostname("hostname", o.hostname);
  const { host, zone } = name === undefined ? { host: name, zone: null } : splitZone(s, name);
  const addr = parseHost(host, Ipv4Address.UNSPECIFIED);
  // A zone (`fe80::1%1`) takes the link-local address of that interface.
  const scope = zone === null ? null : zoneOf(s, name!, addr, zone);
  if (scope !== null && !s.members[scope]!.iface.routes.hasAddress(addr)) {
    throw coreError("EADDRNOTAVAIL", `Cannot listen on ${formatEndpoint({ addr, port })}%${scope}`);
  }
  const backlog = o.tcpBacklog !== undefined
    ? checkBacklog("tcpBacklog", o.tcpBacklog)
    : o.backlog !== undefined
    ? checkBacklog("backlog", o.backlog)
    : s.backlog;
  let core: TcpListenSocket;
  try {
    const local = {
      addr,
      port: port === 0 ? s.sockets.allocatePort("tcp", s.iface.random) : port,
    };
    core = new TcpListenSocket(local, {
      backlog,
      socket: s.tcpOptions,
      ...(o.fastOpen === true ? { fastOpen: true } : {}),
    });
    (scope === null ? ifaceFor(s, addr) : s.members[scope]!.iface).listenTcp(s.sockets, core);
  } catch (e) {
    throw fromCoreError(e, `Cannot listen on ${formatEndpoint({ addr, port })}`);
  }
  const listener = new TcpListener(s.host, core);
  s.listeners.add(listener);
  s.driver.wake();
  return listener;
}

/**
 * `NetStack.connect`: `stack` is the stack `s` belongs to (its resolver sends through it). Not
 * an async function, so a connect to an address is one promise (the wait's), not three; a bad
 * argument still rejects, never throws.
 */
export function connect(
  s: StackState,
  stack: NetStack,
  options: ConnectOptions,
): Promise<TcpStream> {
  try {
    return connectOrResolve(s, stack, options);
  } catch (e) {
    return Promise.reject(e);
  }
}

function connectOrResolve(
  s: StackState,
  stack: NetStack,
  options: ConnectOptions,
): Promise<TcpStream> {
  s.checkOpen();
  const o = checkOptions("options", options, true);
  if (o.transport !== undefined) checkOneOf("transport", o.transport, ["tcp"]);
  const port = checkPort("port", o.port, 1);
  const name = checkHostname("hostname", o.hostname) ?? "127.0.0.1";
  checkSignal("signal", o.signal);
  if (o.fastOpen !== undefined) checkBoolean("fastOpen", o.fastOpen);
  if (o.localPort !== undefined) checkPort("localPort", o.localPort, 1);
  if (name.includes("%")) {
    // RFC 4007 §11: a zoned literal (`fe80::1%1`) names the interface as well.
    const { host, zone } = splitZone(s, name);
    return connectTo(s, parseHost(host, Ipv4Address.UNSPECIFIED), port, name, o, zone);
  }
  const ip = name === "localhost" ? null : tryParseIp(name);
  if (ip !== null) return connectTo(s, ip, port, name, o);
  const servers = [...s.dnsServers, ...s.autoconfs.flatMap((a) => a.dnsServers)];
  if ((servers.length === 0 && s.hosts === undefined) || name === "localhost") {
    return connectTo(s, parseHost(name, Ipv4Address.UNSPECIFIED), port, name, o);
  }
  return connectResolved(s, stack, name, port, o, servers);
}

/** A connect to a host name: every resolved address in turn, the last error if all fail. */
async function connectResolved(
  s: StackState,
  stack: NetStack,
  name: string,
  port: number,
  o: ConnectOptions,
  servers: IpAddress[],
): Promise<TcpStream> {
  // Like Deno.connect (tokio).
  const addrs = await resolveForConnect(stack, name, {
    servers,
    families: s.families,
    cache: s.dnsCache,
    counters: s.dnsCounters,
    search: [...new Set(s.autoconfs.flatMap((a) => a.searchDomains))],
    ...(s.hosts !== undefined ? { hosts: s.hosts } : {}),
    ...(o.signal !== undefined ? { signal: o.signal } : {}),
  });
  let last: unknown;
  for (const addr of addrs) {
    try {
      return await connectTo(s, addr, port, name, o);
    } catch (e) {
      if (o.signal?.aborted || e instanceof TypeError) throw e;
      last = e;
    }
  }
  throw last;
}

/** Throws (not rejects) what it finds wrong before the wait: its callers turn that round. */
function connectTo(
  s: StackState,
  addr: IpAddress,
  port: number,
  name: string,
  options: ConnectOptions,
  zone: number | null = null,
): Promise<TcpStream> {
  s.checkOpen();
  const scope = zoneOf(s, name, addr, zone);
  if (addr.isUnspecified || addr.isMulticast || (addr.version === 4 && addr.isBroadcast)) {
    throw new TypeError(`Invalid hostname "${name}": not a unicast address`);
  }
  const remote: IpEndpoint = { addr, port };
  if (addr.isLoopback && !ownsAddress(s, addr)) {
    // RFC 1122 §3.2.1.3: loopback addresses never leave the host, and a stack has no loopback.
    throw coreError("ENETUNREACH", `Cannot connect to ${formatEndpoint(remote)}`);
  }
  const signal = options.signal;
  if (signal?.aborted) throw abortError(signal);
  let iface = s.iface;
  let local: { localAddr?: IpAddress; localPort?: number } = options.localPort !== undefined
    ? { localPort: options.localPort }
    : NO_OPTIONS;
  if (scope !== null && s.group !== null) {
    // The zone picks the interface; RFC 6724 its address for the link-local peer.
    const m = s.members[scope]!;
    const source = m.iface.routes.nextHop(addr) === null
      ? null
      : selectSourceAddress(addr, m.iface.routes.addresses);
    if (source === null) {
      throw coreError("ENETUNREACH", `Cannot connect to ${formatEndpoint(remote)}%${scope}`);
    }
    iface = m.iface;
    local = { ...local, localAddr: source };
  } else if (s.group !== null) {
    // Several interfaces: the route picks the interface, RFC 6724 its address.
    const via = connectVia(s, addr);
    if (via === null) throw coreError("ENETUNREACH", `Cannot connect to ${formatEndpoint(remote)}`);
    iface = via.iface;
    local = { ...local, localAddr: via.source };
  }
  const fastOpen = options.fastOpen === true;
  const socket = new TcpSocket(
    fastOpen ? { ...s.tcpOptions, fastOpen: s.fastOpenCache } : s.tcpOptions,
  );
  const now = monotonicNow();
  try {
    iface.connectTcp(s.sockets, socket, remote, local, now);
    if (scope !== null && s.group !== null) s.group.pin(socket, scope);
  } catch (e) {
    throw fromCoreError(e, `Cannot connect to ${formatEndpoint(remote)}`);
  }
  // RFC 7413 with a cookie: like TCP_FASTOPEN_CONNECT, return at once so that the first write
  // can travel in the SYN (which waits for it briefly); a failed handshake shows in the first
  // read or write, and the signal aborts until the handshake completes.
  const cache = s.fastOpenCache;
  if (!fastOpen || cache.cookie(addr) === null || cache.paused(addr, now)) {
    return awaitConnect(s.driver, s.host, socket, remote, signal, s.abortCauses);
  }
  const stream = new TcpStream(s.host, socket);
  watchHandshake(s.driver, socket, remote, stream, signal, s.abortCauses);
  s.driver.wake();
  return Promise.resolve(stream);
}
