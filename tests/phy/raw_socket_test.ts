// AF_PACKET against the Linux kernel: a veth pair across two namespaces the test creates. The
// kernel side (namespace K) has 192.0.2.1/24; the raw socket is opened inside namespace R (the
// test thread switches in with setns only while the socket is created) and answers ARP and
// ICMP echo by hand for 192.0.2.2.
import assert from "node:assert/strict";
import { Medium } from "../../src/phy/device.ts";
import { RawSocketDevice } from "../../src/phy/raw_socket.ts";
import {
  answerPings,
  createNetns,
  deleteNetns,
  inNetns,
  ipIn,
  linkName,
  netAdmin,
  quietIpv6,
  reportSkip,
  runIn,
} from "./_netns.ts";

reportSkip("raw_socket_test.ts");

const privileged = {
  ignore: !netAdmin.ok,
  sanitizeOps: true,
  sanitizeResources: true,
} as const;

const OUR_MAC = "02:00:5e:00:53:02";

interface Veth {
  kernelNs: string;
  rawNs: string;
  kernelIf: string;
  rawIf: string;
}

/** Two namespaces joined by a veth pair; the kernel end has 192.0.2.1/24; both up. */
async function vethPair(): Promise<Veth> {
  const kernelNs = await createNetns("rawk");
  let rawNs = "";
  try {
    rawNs = await createNetns("rawr");
    const kernelIf = linkName("k");
    const rawIf = linkName("r");
    await ipIn(
      kernelNs,
      "link",
      "add",
      kernelIf,
      "type",
      "veth",
      "peer",
      "name",
      rawIf,
      "netns",
      rawNs,
    );
    await quietIpv6(kernelNs, kernelIf);
    await quietIpv6(rawNs, rawIf);
    await ipIn(kernelNs, "addr", "add", "192.0.2.1/24", "dev", kernelIf);
    await ipIn(kernelNs, "link", "set", kernelIf, "up");
    await ipIn(rawNs, "link", "set", rawIf, "up");
    return { kernelNs, rawNs, kernelIf, rawIf };
  } catch (e) {
    await deleteNetns(kernelNs);
    if (rawNs !== "") await deleteNetns(rawNs);
    throw e;
  }
}

async function removeVeth(v: Veth): Promise<void> {
  await deleteNetns(v.kernelNs);
  await deleteNetns(v.rawNs);
}

function openIn(ns: string, name: string): Promise<RawSocketDevice> {
  return inNetns(ns, () => RawSocketDevice.open({ name }));
}

Deno.test({
  name:
    "RawSocketDevice answers the kernel's ARP and ping over a veth and never sees its own frames",
  ...privileged,
  fn: async () => {
    const v = await vethPair();
    let dev: RawSocketDevice | null = null;
    try {
      dev = await openIn(v.rawNs, v.rawIf);
      assert.equal(dev.capabilities.medium, Medium.Ethernet);
      assert.equal(dev.capabilities.mtu, 1514);
      const responder = answerPings(dev, { ip: "192.0.2.2", mac: OUR_MAC });
      const ping = await runIn(v.kernelNs, "ping", [
        "-c",
        "3",
        "-i",
        "0.2",
        "-W",
        "2",
        "192.0.2.2",
      ]);
      // A broadcast frame of our own: it goes out but must not come back to receive().
      const buf = dev.transmit(0, 60)!;
      buf.fill(0);
      buf.fill(0xff, 0, 6);
      buf.set([0x02, 0x00, 0x5e, 0x00, 0x53, 0x02], 6);
      buf.set([0x88, 0xb5], 12); // local experimental EtherType
      dev.commit();
      await new Promise((r) => setTimeout(r, 100));
      responder.stop();
      assert.equal(ping.code, 0, ping.stdout + ping.stderr);
      assert.match(ping.stdout, / 3 received/);
      assert.ok(responder.log.arpReplies >= 1);
      assert.equal(responder.log.echoReplies, 3);
      assert.equal(responder.log.ownFrames, 0, "own outgoing frames were received");
      assert.ok(dev.stats.framesSent >= 5);
      assert.equal(dev.stats.writeErrors, 0);
    } finally {
      await dev?.close();
      await removeVeth(v);
    }
  },
});

Deno.test({
  name: "RawSocketDevice reports a missing interface as NotFound",
  ...privileged,
  fn: async () => {
    const ns = await createNetns("rawnf");
    try {
      await assert.rejects(
        openIn(ns, "smnothere0"),
        (e: Error) => e instanceof Deno.errors.NotFound && /"smnothere0"/.test(e.message),
      );
    } finally {
      await deleteNetns(ns);
    }
  },
});

Deno.test({
  name: "RawSocketDevice ends its loop with a clear NotFound error when the interface is deleted",
  ...privileged,
  fn: async () => {
    const v = await vethPair();
    let dev: RawSocketDevice | null = null;
    try {
      dev = await openIn(v.rawNs, v.rawIf);
      const closed = dev.closed.then(() => null, (e: Error) => e);
      await ipIn(v.rawNs, "link", "del", v.rawIf);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), 3000));
      const err = await Promise.race([closed, timeout]);
      clearTimeout(timer);
      assert.notEqual(err, "timeout", "the loop did not notice the deletion within 3 s");
      assert.ok(err instanceof Deno.errors.NotFound, String(err));
      assert.match(err.message, /interface is gone/);
      assert.equal(dev.canTransmit(0), false);
    } finally {
      await dev?.close();
      await removeVeth(v);
    }
  },
});
