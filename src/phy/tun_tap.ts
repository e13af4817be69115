/**
 * {@linkcode TunTapDevice}: a Linux TUN (IP medium) or TAP (Ethernet medium) device opened
 * through `/dev/net/tun` with FFI to libc. Needs `--allow-ffi` and CAP_NET_ADMIN (or a device
 * created beforehand for the user with `ip tuntap add ... user $USER`).
 *
 * @module
 */

import { checkInt, checksumAll, ETHERNET_HEADER_LEN, Medium } from "./device.ts";
import type { DeviceCapabilities } from "./device.ts";
import { FdDevice, FdEngine } from "./_fd_device.ts";
import { TxRing } from "./_tx_ring.ts";
import {
  negotiateOffload,
  TSO_MAX_FRAME,
  TunOffload,
  TunOffloadReceiver,
  TunOffloadSender,
} from "./_tun_offload.ts";
import { VIRTIO_NET_HDR_LEN, VIRTIO_NET_HDR_MRG_LEN } from "../wire/virtio_net.ts";
import {
  configureInterface,
  cString,
  Errno,
  errno,
  errnoText,
  F_GETFL,
  F_SETFL,
  IFNAMSIZ,
  ifreqFor,
  ifreqName,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDWR,
  openLibc,
  osError,
  POLLNVAL,
  setTxQueueLen,
} from "./_libc.ts";

export type { HostDeviceStats } from "./_libc.ts";

const TUNSETIFF = 0x400454can;
const IFF_TUN = 0x0001;
const IFF_TAP = 0x0002;
const IFF_NO_PI = 0x1000;
const IFF_VNET_HDR = 0x4000;
const TUNSETOFFLOAD = 0x400454d0n;
const TUNSETVNETHDRSZ = 0x400454d8n;
/** The default `kernelQueueLen`: about a 6 MiB receive window (autotuning's largest) in full segments. */
const KERNEL_QUEUE_LEN = 4096;

/**
 * Options of {@linkcode TunTapDevice.open}.
 *
 * @example
 * ```ts
 * import { TunTapDevice } from "@smol/net/phy";
 * import type { TunTapOptions } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const opts: TunTapOptions = { name: "tap0", mode: "tap", mtu: 1500, up: true };
 * // Options are checked before the device is opened: offloads need TUN mode.
 * await assert.rejects(TunTapDevice.open({ ...opts, offload: true }), TypeError);
 * ```
 */
export interface TunTapOptions {
  /** Interface name (at most 15 bytes); a name with `%d` lets the kernel pick (`tun%d`). */
  readonly name: string;
  /** `"tun"`: IP packets (IP medium); `"tap"`: Ethernet frames (Ethernet medium). */
  readonly mode: "tun" | "tap";
  /**
   * The interface's IP MTU to set (SIOCSIFMTU; needs CAP_NET_ADMIN). Default: keep the OS value.
   * The device's `capabilities.mtu` is this plus 14 on TAP.
   */
  readonly mtu?: number;
  /** Bring the interface up (IFF_UP; needs CAP_NET_ADMIN). Default `false`. */
  readonly up?: boolean;
  /**
   * The kernel's queue of frames waiting for this process to read them (the interface's
   * txqueuelen, SIOCSIFTXQLEN; needs CAP_NET_ADMIN). When it is full the kernel drops what it
   * routes to the device (counted in the interface's `tx_dropped`, seen by TCP as loss): the
   * kernel's 500 overflowed whenever the process fell behind a sender whose window was larger.
   * Default 4096, kept silently at the kernel's value where the process may not change it; an
   * explicit value that the kernel refuses is an error.
   */
  readonly kernelQueueLen?: number;
  /**
   * Open with the `virtio_net_hdr` offload header (IFF_VNET_HDR) and ask the kernel for checksum
   * and segmentation offload (TUNSETOFFLOAD CSUM|TSO4|TSO6|USO4|USO6, falling back to
   * CSUM|TSO4|TSO6, CSUM|TSO4, CSUM, then none): the kernel then hands over coalesced TCP
   * segments of up to 64 KiB in one read (and UDP super-frames, split here into datagrams),
   * which go to the stack whole, and cuts frames up to 64 KiB the stack sends. What was negotiated
   * is in `capabilities.offload` (`null` when the kernel refused everything). TUN only. Default
   * `false`.
   */
  readonly offload?: boolean;
  /** With `offload`, ask for TCP segmentation offload (TSO4/TSO6) too. Default `true`. */
  readonly tso?: boolean;
  /**
   * Coalesce outgoing pure TCP ACKs: an ACK sent while the stack takes a received burst waits
   * until the stack has drained the receive queue and the fd (or sends another frame), and a
   * newer ACK of the same connection replaces it (the older one is counted in
   * `stats.acksCoalesced`, never sent). Each write to the kernel costs a system call
   * plus the kernel's whole receive path, so this removes most of the writes of a download.
   * Duplicate ACKs, SACKs and anything else always leave in order. Default `true`.
   */
  readonly coalesceAcks?: boolean;
  /** Receive ring length in frames. Default 256 (64 with TCP segmentation offload). */
  readonly rxQueueLen?: number;
  /**
   * Write on a second thread: `commit` copies nothing and makes no system call, it publishes the
   * frame (built in place in a slot of a shared ring) to a Worker that owns its own libc handle
   * and writes the frames in order. The kernel's receive work, which runs inside each TUN `write`
   * (IP, TCP, the ACK it answers with), then runs on that thread instead of the stack's. A full
   * ring refuses `transmit` (`stats.txQueueFull`: back-pressure, the stack sends the frame
   * later); frames the worker could not write count in `dropsTxBusy` and `writeErrors`, and
   * `framesSent` counts the frames written so far. `close()` waits until every published frame is
   * written, then ends the worker. Costs one more thread, which pays only where a core is free
   * for it. Needs `--allow-read` for the worker's module besides `--allow-ffi`. Default `false`.
   *
   * Used only where it pays: not when TCP segmentation offload was negotiated (`offload` with
   * TSO). There each write moves up to 64 KiB and the stack, writing itself, reads the kernel's
   * ACK right after its write; with the writer it waits for the reader's next poll instead, and
   * measured transfers ran at 0.60–0.73× (issue 17). `writerThread` on the device says whether
   * it runs.
   */
  readonly writerThread?: boolean;
  /** With `writerThread`, the ring's length in frames. Default 256. */
  readonly writerQueueLen?: number;
  /**
   * Read on a second thread: a Worker with its own libc handle reads frames into the slots of a
   * shared ring as they come (blocking in `poll()` when the fd is empty), so `receive` takes
   * every ready frame without a system call, and the stack is woken (one `Atomics.waitAsync`)
   * only after `receive` found the ring empty. A full ring stops the worker until `receive`
   * frees a slot (the kernel's queue holds or drops meanwhile, counted in `stats.rxQueueFull`);
   * `stats.readerWakeups` counts the worker's polls and `pending` the frames ready. Not used with
   * `offload` (frames then carry the offload header and are few and large). A worker that dies
   * fails the device (`Deno.errors.BrokenPipe`, `stats.threadFailures`). Needs `--allow-read`
   * for the worker's module besides `--allow-ffi`. Default `false`.
   */
  readonly readerThread?: boolean;
  /** With `readerThread`, the ring's length in frames. Default 512. */
  readonly readerQueueLen?: number;
  /** Called once when the device fails (for example it was deleted); `closed` rejects too. */
  readonly onError?: (error: Error) => void;
}

/**
 * A TUN or TAP device. A background loop awaits a non-blocking FFI `poll()` on the device fd and
 * an eventfd, then reads synchronously until EAGAIN into a bounded ring of preallocated slots
 * and runs the {@linkcode ReadinessHook} callback; `receive` on an empty ring reads the fd itself,
 * so a busy transfer needs no poll round trip. When the ring is full the loop stops reading until
 * `receive` frees a slot (the kernel's queue holds or drops meanwhile, counted in
 * `stats.rxQueueFull`). `commit` writes synchronously; a write that would block drops the frame
 * (`stats.dropsTxBusy`) — there is no transmit queue. With `writerThread`, `commit` instead
 * publishes the frame to a bounded ring that a Worker writes in order (see the option).
 *
 * If the interface disappears (`ip link del`), the loop stops: `closed` rejects with a
 * `Deno.errors.NotFound` naming the device, `onError` runs, `canTransmit` turns false. Call
 * `close()` in every case to release the fds and the FFI library; until then the pending FFI
 * call keeps the process alive.
 *
 * @example
 * ```ts ignore
 * import { TunTapDevice } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 *
 * // As root: ip tuntap add tun0 mode tun && ip addr add 192.0.2.1/24 dev tun0 && ip link set tun0 up
 * const dev = await TunTapDevice.open({ name: "tun0", mode: "tun" });
 * const ipv4 = Promise.withResolvers<Uint8Array>();
 * const drain = () => {
 *   for (let f = dev.receive(0); f !== null; f = dev.receive(0)) {
 *     if (f[0]! >> 4 === 4) ipv4.resolve(f.slice()); // skip the kernel's IPv6 chatter
 *   }
 * };
 * dev.onReadable(drain);
 * drain(); // frames that arrived before the callback was set
 * await new Deno.Command("ping", { args: ["-c1", "-W1", "192.0.2.2"] }).output();
 * assert.equal((await ipv4.promise)[9], 1); // the kernel's ICMP echo request, as an IP packet
 * await dev.close();
 * ```
 */
export class TunTapDevice extends FdDevice {
  readonly #name: string;
  readonly #mode: "tun" | "tap";
  readonly #writer: boolean;
  readonly #reader: boolean;

  private constructor(
    engine: FdEngine,
    name: string,
    mode: "tun" | "tap",
    threads: { writer: boolean; reader: boolean },
  ) {
    super(engine);
    this.#name = name;
    this.#mode = mode;
    this.#writer = threads.writer;
    this.#reader = threads.reader;
  }

  /**
   * Creates the interface, or attaches to an existing one of the same mode, with IFF_NO_PI and a
   * non-blocking fd, reads (or sets) its MTU and starts the reader loop.
   *
   * @param options Name, mode, MTU, receive ring length, error callback.
   * @returns The open device.
   * @throws {Deno.errors.PermissionDenied} Without CAP_NET_ADMIN (the message says what to run).
   * @throws {Deno.errors.NotFound} Without `/dev/net/tun`.
   * @throws {Deno.errors.Busy} When another process holds the device.
   * @throws {TypeError} For a bad name or mode.
   *
   * @example
   * ```ts ignore
   * import { TunTapDevice } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const tap = await TunTapDevice.open({ name: "tap0", mode: "tap", mtu: 1500 });
   * assert.equal(tap.capabilities.mtu, 1514);
   * await tap.close();
   * ```
   */
  static async open(options: TunTapOptions): Promise<TunTapDevice> {
    const { engine, fd, name, mode, tso, reader } = TunTapDevice.#openSync(options);
    const writer = options.writerThread === true && !tso;
    try {
      if (reader) {
        const slots = options.readerQueueLen ?? 512;
        await engine.startReader(slots);
      }
      if (writer) {
        const slots = options.writerQueueLen ?? 256;
        engine.useWriter(await TxRing.start(fd, slots, engine.txFrameSize));
      }
    } catch (e) {
      await engine.close();
      throw e;
    }
    return new TunTapDevice(engine, name, mode, { writer, reader });
  }

  static #openSync(options: TunTapOptions): {
    engine: FdEngine;
    fd: number;
    name: string;
    mode: "tun" | "tap";
    tso: boolean;
    reader: boolean;
  } {
    const { name, mode } = options;
    if (mode !== "tun" && mode !== "tap") {
      throw new TypeError(`Invalid mode "${mode}": expected "tun" or "tap"`);
    }
    const ifr = ifreqFor(name);
    if (options.mtu !== undefined) checkInt("MTU", options.mtu, 68, 65535);
    if (options.writerQueueLen !== undefined) {
      checkInt("writer queue length", options.writerQueueLen, 2, 1 << 16);
    }
    if (options.kernelQueueLen !== undefined) {
      checkInt("kernel queue length", options.kernelQueueLen, 1, 1 << 20);
    }
    if (options.readerQueueLen !== undefined) {
      checkInt("reader queue length", options.readerQueueLen, 2, 1 << 16);
    }
    const offload = options.offload === true;
    const reader = options.readerThread === true && !offload;
    if (offload && mode !== "tun") {
      throw new TypeError(`Invalid option offload for mode "${mode}": offloads need mode "tun"`);
    }
    const lib = openLibc();
    let fd = -1;
    try {
      fd = lib.symbols.open(cString("/dev/net/tun"), O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
      if (fd < 0) {
        const code = errno(lib);
        if (code === Errno.ENOENT || code === Errno.ENODEV || code === Errno.ENXIO) {
          throw new Deno.errors.NotFound(
            `Cannot open /dev/net/tun: ${errnoText(code)}; load the driver with ` +
              "`sudo modprobe tun` (in a container, pass --device /dev/net/tun)",
          );
        }
        throw osError(lib, "Cannot open /dev/net/tun", code, privilegeHint(name, mode));
      }
      new DataView(ifr.buffer).setUint16(
        IFNAMSIZ,
        (mode === "tun" ? IFF_TUN : IFF_TAP) | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0),
        true,
      );
      if (lib.symbols.ioctl(fd, TUNSETIFF, ifr) < 0) {
        const code = errno(lib);
        const what = `Cannot create or attach ${mode.toUpperCase()} device "${name}"`;
        if (code === Errno.EBUSY) {
          throw osError(lib, what, code, "another process has it open, or it is not a " + mode);
        }
        if (code === Errno.EINVAL) {
          throw new TypeError(
            `${what}: ${errnoText(code)}; an interface of that name exists and is not a ${mode}`,
          );
        }
        throw osError(lib, what, code, privilegeHint(name, mode));
      }
      // TUNSETIFF may clear O_NONBLOCK on some kernels' paths: set it again explicitly.
      const fl = lib.symbols.fcntl(fd, F_GETFL, 0);
      if (fl < 0 || lib.symbols.fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        throw osError(lib, "Cannot make the TUN fd non-blocking", errno(lib));
      }
      const actual = ifreqName(ifr);
      const ipMtu = configureInterface(lib, actual, { mtu: options.mtu, up: options.up });
      const qlenCode = setTxQueueLen(lib, actual, options.kernelQueueLen ?? KERNEL_QUEUE_LEN);
      if (qlenCode !== 0 && options.kernelQueueLen !== undefined) {
        throw osError(lib, `Cannot set the queue length of ${actual}`, qlenCode);
      }
      const medium = mode === "tun" ? Medium.Ip : Medium.Ethernet;
      const mtu = mode === "tun" ? ipMtu : ipMtu + ETHERNET_HEADER_LEN;
      let hdrLen = 0;
      let flags = 0;
      if (offload) {
        // virtio 1.x header (12 bytes); a kernel that refuses keeps the 10-byte default.
        const size = new Int32Array([VIRTIO_NET_HDR_MRG_LEN]);
        const sized = lib.symbols.ioctl(fd, TUNSETVNETHDRSZ, new Uint8Array(size.buffer)) === 0;
        hdrLen = sized ? VIRTIO_NET_HDR_MRG_LEN : VIRTIO_NET_HDR_LEN;
        flags = negotiateOffload(
          (f) => lib.symbols.ioctlValue(fd, TUNSETOFFLOAD, BigInt(f)) === 0,
          options.tso !== false,
        );
      }
      const tso = (flags & (TunOffload.TSO4 | TunOffload.TSO6)) !== 0;
      const checksum = checksumAll();
      // The kernel completes partial TCP checksums we send and vouches for the ones it hands
      // over; frames it did neither for are verified by the receive path.
      if ((flags & TunOffload.CSUM) !== 0) checksum.tcp = false;
      const capabilities: DeviceCapabilities = Object.freeze({
        medium,
        mtu,
        checksum: Object.freeze(checksum),
        maxBurstSize: null,
        offload: flags === 0 ? null : Object.freeze({
          checksum: (flags & TunOffload.CSUM) !== 0,
          tcpv4: (flags & TunOffload.TSO4) !== 0,
          tcpv6: (flags & TunOffload.TSO6) !== 0,
          udpv4: (flags & TunOffload.USO4) !== 0,
          udpv6: (flags & TunOffload.USO6) !== 0,
          maxFrameSize: tso ? TSO_MAX_FRAME : mtu,
        }),
      });
      const label = `${mode.toUpperCase()} device "${actual}"`;
      const engine = new FdEngine({
        lib,
        fd,
        capabilities,
        rxQueueLen: options.rxQueueLen ?? (tso ? 64 : 256),
        rxFrameSize: tso ? TSO_MAX_FRAME : mtu,
        receiver: offload
          ? (stats, slotSize) => new TunOffloadReceiver(lib, fd, { mtu, hdrLen, slotSize }, stats)
          : undefined,
        sender: offload
          ? (stats) => new TunOffloadSender({ mtu, hdrLen, flags }, stats)
          : undefined,
        label,
        onError: options.onError,
        coalesceAcks: options.coalesceAcks !== false,
        deferLoop: reader,
        classify: (revents, code) => classifyTunError(label, revents, code),
      });
      return { engine, fd, name: actual, mode, tso, reader };
    } catch (e) {
      if (fd >= 0) lib.symbols.close(fd);
      lib.close();
      throw e;
    }
  }

  /** The interface name the kernel gave (differs from the requested one for `tun%d`). */
  get name(): string {
    return this.#name;
  }

  /** `"tun"` or `"tap"`. */
  get mode(): "tun" | "tap" {
    return this.#mode;
  }

  /**
   * Whether a writer thread writes the frames: `writerThread` was asked for and no TCP
   * segmentation offload was negotiated (see the option).
   *
   * @example
   * ```ts ignore
   * import { TunTapDevice } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const plain = await TunTapDevice.open({ name: "tun0", mode: "tun", writerThread: true });
   * assert.equal(plain.writerThread, true);
   * await plain.close();
   * const tso = await TunTapDevice.open({
   *   name: "tun0",
   *   mode: "tun",
   *   offload: true,
   *   writerThread: true,
   * });
   * assert.equal(tso.writerThread, tso.capabilities.offload?.tcpv4 !== true);
   * await tso.close();
   * ```
   */
  get writerThread(): boolean {
    return this.#writer;
  }

  /**
   * Whether a reader thread reads the frames: `readerThread` was asked for without `offload`.
   *
   * @example
   * ```ts ignore
   * import { TunTapDevice } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const dev = await TunTapDevice.open({ name: "tun0", mode: "tun", readerThread: true });
   * assert.equal(dev.readerThread, true);
   * await dev.close();
   * ```
   */
  get readerThread(): boolean {
    return this.#reader;
  }
}

/** What to run when creating the device is not permitted. */
function privilegeHint(name: string, mode: string): string {
  return `creating a ${mode.toUpperCase()} device needs CAP_NET_ADMIN: run as root (sudo), ` +
    `create it once for your user with \`sudo ip tuntap add dev ${name} mode ${mode} user $USER\`` +
    " and attach to it, or run inside `unshare -Urn` (a user and network namespace)";
}

/** A TUN fd whose interface was deleted polls POLLERR and reads EBADFD: that ends the device. */
function classifyTunError(label: string, revents: number, code: number): Error | null {
  if ((revents & POLLNVAL) !== 0 || code === Errno.EBADF) {
    return new Deno.errors.BadResource(`${label}: the file descriptor is no longer valid`);
  }
  if (revents !== 0 || code === Errno.EBADFD || code === Errno.EIO) {
    return new Deno.errors.NotFound(
      `${label} is gone (deleted, for example by \`ip link del\`): ` +
        `poll revents 0x${revents.toString(16)}, ${errnoText(code)}`,
    );
  }
  return null;
}
