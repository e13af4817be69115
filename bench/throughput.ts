/**
 * smolnet against Deno's kernel TCP, in one run on one machine (issue 7).
 *
 * ```sh
 * deno run --allow-net --allow-write --allow-sys --v8-flags=--expose-gc bench/throughput.ts \
 *   [--quick] [--runs N] [--mib N] [--json FILE]
 * deno run -A bench/throughput.ts --tun [--tun-mib N] ...   # adds the TUN and UDP tunnel rows
 * deno run -A bench/throughput.ts --tun-only [--tun-mib N] ...   # only those rows and the veth ceiling
 *   [--no-router] [--no-tun2proxy]   # with --tun/--tun-only: leave issue 20's Router or tun2proxy rows out
 * ```
 *
 * Rows:
 * - bulk transfer (default 1 GiB) between two `NetStack`s in one process over `linkPair`, at MTU
 *   1500 and 65535, device checksums on and off; the same through `Deno.listen`/`Deno.connect`
 *   on 127.0.0.1, and the ratio smolnet/kernel;
 * - connection setup (connect + accept + close of both ends) per second, smolnet and kernel;
 * - 64-byte request/response round trips per second (no Nagle), smolnet and kernel;
 * - heap bytes per idle established connection (10,000 connections in one stack, both ends
 *   counted as two connections), after GC when `--v8-flags=--expose-gc` is given.
 * - the core at scale (`bench/_core_scale.ts`, 100,000 connections, 5,000 with `--quick`): heap
 *   + external per idle connection end, the cost of a poll with that many idle connections
 *   against a poll with 10, and the memory of as many TIME-WAIT records.
 * - with `--tun` (root, /dev/net/tun, `ip`, python3; `-A`): smolnet↔kernel through a TUN device
 *   at MTU 1500 in a namespace `smolnet-bench-<random>` the script creates (kernel 192.0.2.1,
 *   smolnet 192.0.2.2), bulk download and upload of `--tun-mib` (default 256, 32 with `--quick`)
 *   to/from a python3 server in the namespace, byte counts checked on every run and SHA-256 on an
 *   untimed check transfer per direction, with a plain TUN, a plain TUN with its writer thread
 *   (`writerThread`), one with its writer and reader threads (`readerThread`), and one opened
 *   with offloads (IFF_VNET_HDR, TSO4/TSO6: 64 KiB frames each way); beside them, as the ceiling, Linux to
 *   Linux TCP (iperf3, one stream) over a veth pair between two more namespaces, with the default
 *   offloads and with TSO/GSO/GRO off (needs iperf3 and ethtool); and the UDP tunnel between two processes (a child
 *   `bench/_udp_tunnel_peer.ts` sinks TCP over a `UdpTunnelDevice` on 127.0.0.1) against raw
 *   `Deno.listenDatagram` throughput with 1400-byte datagrams (at most 64 unacknowledged)
 *   between the same two processes. The sending side runs in this process when it has
 *   `--unstable-net`, else in a second child. Namespace, device and processes are removed in
 *   `finally` and on SIGINT/SIGTERM; children also exit when their stdin closes.
 * - also with `--tun`, issue 20's rows (`_throughput_issue20.ts`), each with its target, measured
 *   by `bench/router.ts` and `bench/tun2proxy.ts` run once as children with `--json`: the
 *   `Router` (examples/router.ts) forwarding 64-byte UDP from one `sendmmsg` sender between two
 *   TUN devices, 2 s (≥ 100k pps), beside the kernel forwarding between veth pairs and the TUN
 *   copy with no stack as reference rows; the heap of a NAT conntrack table of 100,000 flows
 *   (≤ 32 MiB); `examples/tun2proxy.ts --offload` relaying one iperf3 TCP flow each way for 3 s
 *   (≥ 150 MB/s), beside P's kernel forwarding of the same flow, and 1,000 concurrent TCP echo
 *   flows through it, each of which must get back exactly its own bytes (none lost). Needs nft,
 *   python3 and iperf3 besides the above; about 30 s. `--no-router` / `--no-tun2proxy` leave
 *   those rows out. On SIGINT/SIGTERM the child gets SIGTERM and removes its namespaces.
 *
 * Each figure is the median of `--runs` runs (default 5) with the minimum and maximum. The
 * 1-minute load average is printed before and after, since figures from a loaded machine are
 * not comparable. An untimed warm-up transfer runs first (V8 optimises the hot path on a
 * background thread, late on a busy machine). `--quick` (CI smoke) moves 16 MiB once and runs
 * small counts.
 *
 * This file runs the rows and prints the report; the rows live in `_throughput_core.ts`
 * (loopback, memory, scale), `_throughput_tun.ts` (TUN and the veth ceiling) and
 * `_throughput_tunnel.ts` (UDP tunnel), `_throughput_issue20.ts` (Router, conntrack,
 * tun2proxy), with `_throughput_host.ts` (namespaces, processes,
 * cleanup), `_throughput_common.ts` (arguments, statistics, rows) and `_throughput_report.ts`.
 *
 * @module
 */

import { advanceProgress, ARGS, encoder, load, type Stat } from "./_throughput_common.ts";
import { coreRows } from "./_throughput_core.ts";
import { cleanUp, isInterrupted, onSignal, skip } from "./_throughput_host.ts";
import { report } from "./_throughput_report.ts";
import { tunRows, tunUnavailable, vethRows, vethUnavailable } from "./_throughput_tun.ts";
import { udpRows } from "./_throughput_tunnel.ts";
import { issue20Rows } from "./_throughput_issue20.ts";

async function tunAndUdpRows(): Promise<void> {
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    const why = tunUnavailable();
    if (why !== null) {
      skip("TUN", why);
      advanceProgress(10);
    } else {
      let veth: { on: Stat; off: Stat } | null = null;
      const noVeth = vethUnavailable();
      if (noVeth !== null) skip("Linux veth", noVeth);
      else {
        try {
          veth = await vethRows();
        } catch (e) {
          skip("Linux veth", `failed: ${(e as Error).message}`);
        } finally {
          await cleanUp();
        }
      }
      const modes = [[false, false, false], [false, true, false], [false, true, true], [
        true,
        false,
        false,
      ]];
      for (const [offload, writer, reader] of modes) {
        try {
          await tunRows(offload!, veth, writer, reader);
        } catch (e) {
          const what = `offloads ${offload ? "on" : "off"}${writer ? ", writer thread" : ""}` +
            (reader ? ", reader thread" : "");
          skip(`TUN (${what})`, `failed: ${(e as Error).message}`);
        } finally {
          await cleanUp();
        }
      }
    }
    if (isInterrupted()) return;
    const noRun = (["run", "read", "net"] as const).find((name) =>
      Deno.permissions.querySync({ name }).state !== "granted"
    );
    if (noRun !== undefined) {
      skip("UDP tunnel", `needs --allow-${noRun} (run with -A)`);
    } else {
      try {
        await udpRows();
      } catch (e) {
        skip("UDP tunnel", `failed: ${(e as Error).message}`);
      } finally {
        await cleanUp();
      }
    }
    if (isInterrupted()) return;
    try {
      await issue20Rows(
        why ?? (noRun === undefined ? null : `needs --allow-${noRun} (run with -A)`),
      );
    } finally {
      await cleanUp();
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}

// --- run ------------------------------------------------------------------------------------

const loadBefore = load();
if (!ARGS.tunOnly) await coreRows();
if (ARGS.tun) await tunAndUdpRows();
// Interrupted: no table; onSignal exits once the cleanup is done (its pending work keeps the
// event loop alive until then). tunAndUdpRows may return early when interrupted.
if (isInterrupted()) await new Promise<never>(() => {});
const loadAfter = load();
Deno.stderr.writeSync(encoder.encode("\r\x1b[2K"));
report(loadBefore, loadAfter);
