/**
 * The wire layer: bytes to values and back, with no I/O and no clock. Every protocol has a
 * zero-copy view class over a `Uint8Array` (`TcpPacket`, `Ipv4Packet`, ...) and a plain-data
 * representation (`TcpRepr`, `Ipv4Repr`, ...) with `parse*` / `emit*` functions and a
 * buffer-length function. Malformed input raises {@linkcode WireError} and nothing else.
 *
 * @example Parse an address, compute a checksum, print a frame
 * ```ts
 * import { internetChecksum, parseIpAddress, prettyPrint } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseIpAddress("2001:db8::1").toString(), "2001:db8::1");
 * assert.equal(internetChecksum(new Uint8Array([0xff, 0xff])), 0);
 * assert.equal(prettyPrint(new Uint8Array([0x45]), "ip").startsWith("IP"), true);
 * ```
 *
 * @module
 */

export * from "./address.ts";
export * from "./checksum.ts";
export * from "./error.ts";
export * from "./ip.ts";
export * from "./ethernet.ts";
export * from "./arp.ts";
export * from "./ipv4.ts";
export * from "./ipv6.ts";
export * from "./ipv6_ext.ts";
export * from "./icmp_message.ts";
export * from "./icmpv4.ts";
export * from "./icmpv6.ts";
export * from "./ndisc.ts";
export * from "./mld.ts";
export * from "./udp.ts";
export * from "./tcp.ts";
export * from "./dns.ts";
export * from "./dhcpv4.ts";
export * from "./pretty_print.ts";
export * from "./virtio_net.ts";
export * from "./special_purpose.ts";
