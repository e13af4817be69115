// Bulk TCP transfers between smolnet and the Linux kernel through a TUN device: smolnet downloads
// from and uploads to a python3 server in the namespace, SHA-256 equal both ways; then the same
// with our FaultInjector dropping 5 % and reordering 5 % of frames in both directions.
// SMOLNET_INTEROP_MIB sets the size: default 16 MiB clean, a quarter of it for the download with
// faults and an eighth for the upload with faults (our sender still recovers many losses at a
// window of a few segments by a 200 ms RTO: no RACK-TLP (RFC 8985) yet, so under the same
// faults it is 10-20x slower than the kernel's sender).
import { interop, interopBytes, KernelPeer, reportSkip } from "./_kernel_peer.ts";
import { transfer } from "./_transfer.ts";

reportSkip("bulk_transfer_test.ts");

Deno.test({
  name: "interop: smolnet downloads from a kernel server through TUN, SHA-256 equal",
  ...interop,
  fn: () => transfer("download", interopBytes(16), false),
});

Deno.test({
  name: "interop: smolnet uploads to a kernel server through TUN, SHA-256 equal",
  ...interop,
  fn: () => transfer("upload", interopBytes(16), false),
});

Deno.test({
  name: "interop: download with 5 % drop and 5 % reordering both ways, SHA-256 equal",
  ...interop,
  fn: () => transfer("download", Math.ceil(interopBytes(16) / 4), true),
});

Deno.test({
  name: "interop: upload with 5 % drop and 5 % reordering both ways, SHA-256 equal",
  ...interop,
  fn: () => transfer("upload", Math.ceil(interopBytes(16) / 8), true),
});

for (const direction of ["download", "upload"] as const) {
  Deno.test({
    name: `interop: smolnet ${direction}s through TAP (Ethernet, ARP through the kernel), ` +
      "SHA-256 equal",
    ...interop,
    fn: () =>
      transfer(direction, interopBytes(16), false, () => KernelPeer.create({ mode: "tap" })),
  });
}
