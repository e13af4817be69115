/**
 * {@linkcode RawSocketDevice}: a Linux AF_PACKET raw socket bound to an existing interface (for
 * example one end of a veth pair), carrying whole Ethernet frames. Needs `--allow-ffi` and
 * CAP_NET_RAW.
 *
 * @module
 */

import { checksumAll, ETHERNET_HEADER_LEN, Medium } from "./device.ts";
import type { Device, DeviceCapabilities, ReadinessHook } from "./device.ts";
import {
  AF_PACKET,
  configureInterface,
  cString,
  Errno,
  errno,
  errnoText,
  FdEngine,
  ifreqFor,
  openLibc,
  osError,
  PACKET_AUXDATA,
  POLLNVAL,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_RAW,
  SOL_PACKET,
} from "./_libc.ts";
import type { HostDeviceStats, Libc } from "./_libc.ts";
import type { Instant } from "../time.ts";

/** ETH_P_ALL in network byte order, as `socket` and `sockaddr_ll` take it. */
const ETH_P_ALL_BE = 0x0300;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;
const PACKET_ADD_MEMBERSHIP = 1;
const PACKET_MR_PROMISC = 1;
const PACKET_IGNORE_OUTGOING = 23;
const SOCKADDR_LL_LEN = 20;

/**
 * Options of {@linkcode RawSocketDevice.open}.
 *
 * @example
 * ```ts
 * import type { RawSocketOptions } from "@smol/net/phy";
 * const opts: RawSocketOptions = { name: "veth1", promiscuous: true };
 * ```
 */
export interface RawSocketOptions {
  /** The existing interface to bind to. */
  readonly name: string;
  /** Socket receive buffer in bytes (SO_RCVBUFFORCE, else SO_RCVBUF). Default 8 MiB. */
  readonly receiveBufferSize?: number;
  /**
   * Put the interface in promiscuous mode while the socket is open, so a NIC delivers frames for
   * the stack's own MAC address. Default `false` (a veth delivers every frame anyway).
   */
  readonly promiscuous?: boolean;
  /** Receive ring length in frames. Default 256. */
  readonly rxQueueLen?: number;
  /** Called once when the device fails (the interface was deleted); `closed` rejects too. */
  readonly onError?: (error: Error) => void;
}

/**
 * An AF_PACKET `SOCK_RAW` socket for all EtherTypes, bound to one interface. Frames this socket
 * sends are not received back: the kernel is asked not to loop them (PACKET_IGNORE_OUTGOING,
 * Linux 4.20+) and the receive path also skips any frame whose `sll_pkttype` is
 * PACKET_OUTGOING (counted in `stats.outgoingSkipped`), which also hides frames the host's own
 * stack sends on the interface. The MTU is the interface's MTU plus the 14-byte header.
 *
 * Frames the host's stack sent with TX checksum offload (the default on a veth) reach a packet
 * socket with only the pseudo-header sum in their TCP/UDP checksum field; the kernel says so per
 * frame (PACKET_AUXDATA, TP_STATUS_CSUMNOTREADY) and the device computes the checksum, as a NIC
 * would have (`stats.checksumsCompleted`). TCP super-frames larger than the MTU (segmentation
 * offload, GSO/TSO) are split into MTU-sized segments (`stats.framesSegmented`), so the stack
 * sees what the wire would carry and keeps verifying every checksum in software.
 *
 * The reader, the receive ring, the synchronous transmit path (EAGAIN/ENOBUFS drop the frame,
 * counted in `dropsTxBusy`) and `close()` work as in {@linkcode TunTapDevice}. When the
 * interface is deleted, the loop ends and `closed` rejects with `Deno.errors.NotFound`; a link
 * that merely goes down (ENETDOWN) is counted in `readErrors` and the socket resumes when it
 * comes back up.
 *
 * @example
 * ```ts ignore
 * import { RawSocketDevice } from "@smol/net/phy";
 *
 * const dev = await RawSocketDevice.open({ name: "veth1" });
 * dev.onReadable(() => {
 *   for (let f = dev.receive(0); f !== null; f = dev.receive(0)) console.log(f.length);
 * });
 * await dev.close();
 * ```
 */
export class RawSocketDevice implements Device, ReadinessHook {
  /** Ethernet medium, interface MTU + 14, software checksums. */
  readonly capabilities: DeviceCapabilities;
  readonly #engine: FdEngine;
  readonly #name: string;
  readonly #ifindex: number;

  private constructor(engine: FdEngine, name: string, ifindex: number) {
    this.#engine = engine;
    this.capabilities = engine.capabilities;
    this.#name = name;
    this.#ifindex = ifindex;
  }

  /**
   * Opens the socket, binds it to the interface and starts the reader loop.
   *
   * @param options Interface name, receive buffer, promiscuous mode, ring length, error callback.
   * @returns The open device.
   * @throws {Deno.errors.NotFound} When the interface does not exist.
   * @throws {Deno.errors.PermissionDenied} Without CAP_NET_RAW (the message says what to run).
   * @throws {TypeError} For a bad interface name.
   *
   * @example
   * ```ts ignore
   * import { RawSocketDevice } from "@smol/net/phy";
   * const dev = await RawSocketDevice.open({ name: "eth0" });
   * console.log(dev.capabilities.mtu); // 1514
   * await dev.close();
   * ```
   */
  static open(options: RawSocketOptions): Promise<RawSocketDevice> {
    return new Promise((resolve) => resolve(RawSocketDevice.#openSync(options)));
  }

  static #openSync(options: RawSocketOptions): RawSocketDevice {
    const name = options.name;
    ifreqFor(name); // validates the name
    const lib = openLibc();
    let fd = -1;
    try {
      const s = lib.symbols;
      const ifindex = s.if_nametoindex(cString(name));
      if (ifindex === 0) {
        throw new Deno.errors.NotFound(
          `Cannot bind a raw socket to interface "${name}": no such interface (see \`ip link\`)`,
        );
      }
      fd = s.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, ETH_P_ALL_BE);
      if (fd < 0) {
        throw osError(
          lib,
          "Cannot open an AF_PACKET socket",
          errno(lib),
          "raw sockets need CAP_NET_RAW: run as root (sudo), grant it with " +
            "`sudo setcap cap_net_raw+ep $(command -v deno)`, or run inside `unshare -Urn` " +
            "with an interface of that namespace",
        );
      }
      setIntOption(lib, fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1); // best effort: pkttype check too
      // Per-frame tp_status: which frames carry only a partial checksum (packet(7)).
      if (!setIntOption(lib, fd, SOL_PACKET, PACKET_AUXDATA, 1)) {
        throw osError(
          lib,
          `Cannot enable PACKET_AUXDATA on the raw socket for "${name}"`,
          errno(lib),
        );
      }
      const rcvbuf = options.receiveBufferSize ?? 8 << 20;
      if (!setIntOption(lib, fd, SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf)) {
        setIntOption(lib, fd, SOL_SOCKET, SO_RCVBUF, rcvbuf);
      }
      const sll = new Uint8Array(SOCKADDR_LL_LEN);
      const dv = new DataView(sll.buffer);
      dv.setUint16(0, AF_PACKET, true);
      dv.setUint16(2, ETH_P_ALL_BE, true);
      dv.setInt32(4, ifindex, true);
      if (s.bind(fd, sll, SOCKADDR_LL_LEN) < 0) {
        throw osError(lib, `Cannot bind the raw socket to "${name}"`, errno(lib));
      }
      if (options.promiscuous === true) {
        const mreq = new Uint8Array(16);
        const mv = new DataView(mreq.buffer);
        mv.setInt32(0, ifindex, true);
        mv.setUint16(4, PACKET_MR_PROMISC, true);
        if (s.setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq, 16) < 0) {
          throw osError(lib, `Cannot make "${name}" promiscuous`, errno(lib));
        }
      }
      const ipMtu = configureInterface(lib, name, {});
      const capabilities: DeviceCapabilities = Object.freeze({
        medium: Medium.Ethernet,
        mtu: ipMtu + ETHERNET_HEADER_LEN,
        checksum: Object.freeze(checksumAll()),
        maxBurstSize: null,
      });
      const label = `Raw socket on "${name}"`;
      const engine = new FdEngine({
        lib,
        fd,
        capabilities,
        rxQueueLen: options.rxQueueLen ?? 256,
        readMode: "packet",
        label,
        onError: options.onError,
        classify: (revents, code) => classifyRawError(lib, label, name, ifindex, revents, code),
      });
      return new RawSocketDevice(engine, name, ifindex);
    } catch (e) {
      if (fd >= 0) lib.symbols.close(fd);
      lib.close();
      throw e;
    }
  }

  /** The interface name. */
  get name(): string {
    return this.#name;
  }

  /** The interface index the socket is bound to. */
  get ifindex(): number {
    return this.#ifindex;
  }

  /** Counters; the object is live. */
  get stats(): HostDeviceStats {
    return this.#engine.stats;
  }

  /** Frames waiting in the receive ring. */
  get pending(): number {
    return this.#engine.pending;
  }

  /** Resolves after `close()`; rejects with the device error (the interface was deleted). */
  get closed(): Promise<void> {
    return this.#engine.closed;
  }

  /** The error that stopped the device, or `null`. */
  get error(): Error | null {
    return this.#engine.error;
  }

  /**
   * The next received Ethernet frame, valid until the next `receive`, or `null`.
   *
   * @param now The current instant.
   * @returns The frame or `null`.
   *
   * @example
   * ```ts ignore
   * import { RawSocketDevice } from "@smol/net/phy";
   * const dev = await RawSocketDevice.open({ name: "veth1" });
   * console.log(dev.receive(0));
   * await dev.close();
   * ```
   */
  receive(now: Instant): Uint8Array | null {
    return this.#engine.receive(now);
  }

  /**
   * Whether a `transmit` would be accepted: `true` while the device is open.
   *
   * @param now The current instant.
   * @returns `false` after `close()` or a device error.
   *
   * @example
   * ```ts ignore
   * import { RawSocketDevice } from "@smol/net/phy";
   * const dev = await RawSocketDevice.open({ name: "veth1" });
   * console.log(dev.canTransmit(0)); // true
   * await dev.close();
   * ```
   */
  canTransmit(now: Instant): boolean {
    return this.#engine.canTransmit(now);
  }

  /**
   * The single transmit buffer as a view of `len` bytes, or `null` when `len > mtu` or closed.
   *
   * @param now The current instant.
   * @param len The frame length including the Ethernet header.
   * @returns The buffer to fill, then `commit`.
   *
   * @example
   * ```ts ignore
   * import { RawSocketDevice } from "@smol/net/phy";
   * const dev = await RawSocketDevice.open({ name: "veth1" });
   * console.log(dev.transmit(0, 60)?.length); // 60
   * await dev.close();
   * ```
   */
  transmit(now: Instant, len: number): Uint8Array | null {
    return this.#engine.transmit(now, len);
  }

  /**
   * Sends the frame of the last `transmit` synchronously; EAGAIN/ENOBUFS drop it (counted).
   *
   * @example
   * ```ts ignore
   * import { RawSocketDevice } from "@smol/net/phy";
   * const dev = await RawSocketDevice.open({ name: "veth1" });
   * dev.transmit(0, 60)!.fill(0xff, 0, 6);
   * dev.commit();
   * await dev.close();
   * ```
   */
  commit(): void {
    this.#engine.commit();
  }

  /**
   * Registers the callback run when frames arrive in an empty ring (edge triggered), and once
   * when the device fails.
   *
   * @param callback The wake-up function.
   *
   * @example
   * ```ts ignore
   * import { RawSocketDevice } from "@smol/net/phy";
   * const dev = await RawSocketDevice.open({ name: "veth1" });
   * dev.onReadable(() => console.log("frames:", dev.pending));
   * await dev.close();
   * ```
   */
  onReadable(callback: () => void): void {
    this.#engine.onReadable(callback);
  }

  /**
   * Stops the reader loop, closes the socket and the eventfd, releases the FFI library.
   * Idempotent.
   *
   * @returns Settles when everything is released.
   *
   * @example
   * ```ts ignore
   * import { RawSocketDevice } from "@smol/net/phy";
   * const dev = await RawSocketDevice.open({ name: "veth1" });
   * await dev.close();
   * ```
   */
  close(): Promise<void> {
    return this.#engine.close();
  }

  /**
   * Same as `close()`, for `await using`.
   *
   * @returns Settles when everything is released.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Sets an int socket option; `false` when the kernel refuses. */
function setIntOption(lib: Libc, fd: number, level: number, name: number, value: number): boolean {
  const v = new Uint8Array(4);
  new DataView(v.buffer).setInt32(0, value, true);
  return lib.symbols.setsockopt(fd, level, name, v, 4) === 0;
}

/**
 * A packet socket reports ENETDOWN (POLLERR) when its interface goes down or is deleted: fatal
 * only when the name no longer resolves to the bound index.
 */
function classifyRawError(
  lib: Libc,
  label: string,
  name: string,
  ifindex: number,
  revents: number,
  code: number,
): Error | null {
  if ((revents & POLLNVAL) !== 0 || code === Errno.EBADF) {
    return new Deno.errors.BadResource(`${label}: the file descriptor is no longer valid`);
  }
  if (code === Errno.ENETDOWN || code === Errno.ENXIO || code === Errno.ENODEV || code === 0) {
    if (lib.symbols.if_nametoindex(cString(name)) !== ifindex) {
      return new Deno.errors.NotFound(
        `${label}: the interface is gone (deleted, for example by \`ip link del\`): ` +
          errnoText(code),
      );
    }
  }
  return null;
}
