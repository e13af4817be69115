import assert from "node:assert/strict";
import {
  fileSink,
  linkPair,
  Loopback,
  Medium,
  MemorySink,
  PCAP_GLOBAL_HEADER_LEN,
  pcapGlobalHeader,
  PcapLinkType,
  PcapWriter,
  writePcapRecord,
} from "../../src/phy/mod.ts";
import type { Device } from "../../src/phy/mod.ts";
import { internetChecksum } from "../../src/wire/checksum.ts";

interface PcapRecord {
  sec: number;
  usec: number;
  origLen: number;
  data: Uint8Array;
}

interface PcapFile {
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  linkType: number;
  records: PcapRecord[];
}

/** A minimal little-endian libpcap reader, strict about lengths. */
function readPcap(bytes: Uint8Array): PcapFile {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.ok(bytes.length >= 24, "truncated global header");
  assert.equal(v.getUint32(0, true), 0xa1b2c3d4, "magic");
  const file: PcapFile = {
    versionMajor: v.getUint16(4, true),
    versionMinor: v.getUint16(6, true),
    snaplen: v.getUint32(16, true),
    linkType: v.getUint32(20, true),
    records: [],
  };
  assert.equal(v.getInt32(8, true), 0, "thiszone");
  assert.equal(v.getUint32(12, true), 0, "sigfigs");
  let o = 24;
  while (o < bytes.length) {
    assert.ok(o + 16 <= bytes.length, "truncated record header");
    const capLen = v.getUint32(o + 8, true);
    const rec: PcapRecord = {
      sec: v.getUint32(o, true),
      usec: v.getUint32(o + 4, true),
      origLen: v.getUint32(o + 12, true),
      data: bytes.slice(o + 16, o + 16 + capLen),
    };
    assert.ok(rec.usec < 1_000_000, "microseconds in range");
    assert.ok(capLen <= file.snaplen && capLen <= rec.origLen, "capture length bounds");
    assert.equal(rec.data.length, capLen, "truncated record data");
    file.records.push(rec);
    o += 16 + capLen;
  }
  return file;
}

/** An IPv4/UDP packet 192.0.2.1:1000 -> 192.0.2.2:<port> with `payloadLen` bytes. */
function udpPacket(port: number, payloadLen: number): Uint8Array {
  const p = new Uint8Array(28 + payloadLen);
  p.set([0x45, 0, (p.length >> 8) & 0xff, p.length & 0xff, 0, 1, 0, 0, 64, 17, 0, 0]);
  p.set([192, 0, 2, 1, 192, 0, 2, 2], 12);
  const c = internetChecksum(p.subarray(0, 20));
  p[10] = c >> 8;
  p[11] = c & 0xff;
  p.set([1000 >> 8, 1000 & 0xff, port >> 8, port & 0xff, 0, 8 + payloadLen, 0, 0], 20);
  for (let i = 0; i < payloadLen; i++) p[28 + i] = i;
  return p;
}

/** An Ethernet II frame 02:..:01 -> 02:..:02 carrying `ip`. */
function ethFrame(ip: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + ip.length);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
  f.set(ip, 14);
  return f;
}

/** Transmits a copy of `bytes` at `now` and commits. */
function send(dev: Device, bytes: Uint8Array, now: number): void {
  const buf = dev.transmit(now, bytes.length);
  assert.ok(buf !== null, "transmit refused");
  buf.set(bytes);
  dev.commit();
}

/** Whether `cmd` can be run here. */
function canRun(cmd: string): boolean {
  try {
    return new Deno.Command(cmd, { args: ["-v"], stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}

Deno.test("pcapGlobalHeader writes magic, version 2.4, snaplen and link type", () => {
  const h = pcapGlobalHeader(PcapLinkType.Raw, 1500);
  assert.equal(h.length, PCAP_GLOBAL_HEADER_LEN);
  assert.deepEqual(
    [...h],
    [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xdc, 5, 0, 0, 101, 0, 0, 0],
  );
});

Deno.test("writePcapRecord splits milliseconds into seconds and microseconds", () => {
  const out = new Uint8Array(64);
  const frame = new Uint8Array([1, 2, 3]);
  assert.equal(writePcapRecord(out, frame, { now: 1234.5678 }), 19);
  const { records } = readPcap(
    new Uint8Array([...pcapGlobalHeader(1, 65535), ...out.subarray(0, 19)]),
  );
  assert.deepEqual(records[0], { sec: 1, usec: 234568, origLen: 3, data: frame });
  writePcapRecord(out, frame, { now: 1999.9999999 });
  const carried = readPcap(new Uint8Array([...pcapGlobalHeader(1, 65535), ...out.subarray(0, 19)]));
  assert.equal(carried.records[0]!.sec, 2, "a rounded-up microsecond carries into the second");
  assert.equal(carried.records[0]!.usec, 0);
});

Deno.test("writePcapRecord truncates to snaplen and rejects a short output", () => {
  const out = new Uint8Array(26);
  assert.equal(writePcapRecord(out, new Uint8Array(100), { now: 0, snaplen: 10 }), 26);
  assert.equal(new DataView(out.buffer).getUint32(8, true), 10);
  assert.equal(new DataView(out.buffer).getUint32(12, true), 100);
  assert.throws(() => writePcapRecord(out, new Uint8Array(11), { now: 0 }), RangeError);
});

Deno.test("PcapWriter output parses back with both directions and their time stamps", () => {
  const [a, b] = linkPair();
  const sink = new MemorySink();
  const dev = new PcapWriter(a, sink);
  const out1 = udpPacket(7, 10);
  const in1 = udpPacket(9, 0);
  send(dev, out1, 1_000);
  send(b, in1, 2_000);
  assert.deepEqual(dev.receive(2_500), in1);
  assert.equal(dev.receive(3_000), null);
  const file = readPcap(sink.bytes());
  assert.equal(file.versionMajor, 2);
  assert.equal(file.versionMinor, 4);
  assert.equal(file.linkType, PcapLinkType.Raw);
  assert.equal(file.snaplen, 65535);
  assert.deepEqual(file.records, [
    { sec: 1, usec: 0, origLen: out1.length, data: out1 },
    { sec: 2, usec: 500_000, origLen: in1.length, data: in1 },
  ]);
  assert.deepEqual(b.receive(0), out1, "the frame still reaches the peer");
});

Deno.test("PcapWriter picks Ethernet link type and honours mode and snaplen", () => {
  const lo = new Loopback({ medium: Medium.Ethernet, mtu: 1514 });
  const sink = new MemorySink();
  const dev = new PcapWriter(lo, sink, { mode: "rx", snaplen: 20 });
  const frame = ethFrame(udpPacket(1, 30));
  send(dev, frame, 0);
  assert.deepEqual(dev.receive(1), frame);
  const file = readPcap(sink.bytes());
  assert.equal(file.linkType, PcapLinkType.Ethernet);
  assert.equal(file.records.length, 1, "mode rx skips transmitted frames");
  assert.equal(file.records[0]!.origLen, frame.length);
  assert.deepEqual(file.records[0]!.data, frame.subarray(0, 20));

  const txSink = new MemorySink();
  const txDev = new PcapWriter(new Loopback(), txSink, { mode: "tx" });
  send(txDev, udpPacket(1, 0), 0);
  txDev.receive(0);
  assert.equal(readPcap(txSink.bytes()).records.length, 1, "mode tx skips received frames");
  assert.throws(() => new PcapWriter(new Loopback(), new MemorySink(), { snaplen: 0 }), RangeError);
});

Deno.test("PcapWriter records nothing for a refused or uncommitted transmit", () => {
  const sink = new MemorySink();
  const dev = new PcapWriter(new Loopback({ mtu: 100 }), sink);
  assert.equal(dev.transmit(0, 101), null);
  dev.commit();
  dev.transmit(0, 10);
  dev.transmit(0, 20);
  dev.commit();
  const file = readPcap(sink.bytes());
  assert.equal(file.records.length, 1);
  assert.equal(file.records[0]!.origLen, 20);
});

Deno.test("PcapWriter forwards readiness to the inner device", () => {
  const [a, b] = linkPair();
  const dev = new PcapWriter(a, new MemorySink());
  let wakes = 0;
  dev.onReadable(() => wakes++);
  send(b, udpPacket(1, 0), 0);
  assert.equal(wakes, 1);
  const bare: Device = {
    capabilities: a.capabilities,
    receive: () => null,
    canTransmit: () => true,
    transmit: () => null,
    commit: () => {},
  };
  assert.throws(() => new PcapWriter(bare, new MemorySink()).onReadable(() => {}), TypeError);
});

Deno.test({
  name: "PcapWriter files are read by tshark without errors",
  ignore: !canRun("tshark"),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "smolnet_pcap_" });
    try {
      const captures: [Medium, string][] = [[Medium.Ip, `${dir}/ip.pcap`], [
        Medium.Ethernet,
        `${dir}/eth.pcap`,
      ]];
      for (const [medium, path] of captures) {
        const [a, b] = linkPair({ medium });
        const sink = fileSink(path);
        const dev = new PcapWriter(a, sink);
        const wrap = (p: Uint8Array) => medium === Medium.Ethernet ? ethFrame(p) : p;
        send(dev, wrap(udpPacket(5000, 100)), 10.25);
        send(b, wrap(udpPacket(5001, 1000)), 20.5);
        dev.receive(20.5);
        sink.close();
        sink.close(); // closing twice is harmless
        const out = await new Deno.Command("tshark", {
          args: ["-r", path, "-T", "fields", "-e", "frame.len", "-e", "udp.dstport"],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const stderr = new TextDecoder().decode(out.stderr);
        const stdout = new TextDecoder().decode(out.stdout);
        assert.ok(out.success, `tshark failed: ${stderr}`);
        assert.doesNotMatch(stderr, /appears to be|damaged|corrupt|isn't a capture file/i);
        const hdr = medium === Medium.Ethernet ? 14 : 0;
        assert.deepEqual(stdout.trim().split("\n"), [`${128 + hdr}\t5000`, `${1028 + hdr}\t5001`]);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
