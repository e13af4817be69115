// Per-event costs of the TCP loss and congestion helpers: one ACK through each controller, one
// RTT sample, one ISN. All run on the per-segment or per-connection path and allocate nothing.
import { createCongestionController } from "../src/socket/tcp/congestion.ts";
import { initialSequenceNumber } from "../src/socket/tcp/isn.ts";
import { RttEstimator } from "../src/socket/tcp/rtt.ts";
import { Ipv4Address, Ipv6Address } from "../src/wire/address.ts";

const MSS = 1460;

for (const kind of ["newreno", "cubic"] as const) {
  const cc = createCongestionController(kind, MSS);
  cc.onEnterRecovery(0, 1_000_000);
  cc.onExitRecovery(1);
  let now = 2;
  Deno.bench(`${kind} onAck in congestion avoidance`, { group: "cc" }, () => {
    now += 0.01;
    cc.onAck(now, MSS, cc.cwnd - MSS, 50);
    if (cc.cwnd > 50_000_000) {
      cc.onEnterRecovery(now, cc.cwnd);
      cc.onExitRecovery(now);
    }
  });
}

const rtt = new RttEstimator();
let r = 0;
Deno.bench("RttEstimator sample", () => {
  r = (r + 7) % 100;
  rtt.sample(50 + r);
});

const secret = crypto.getRandomValues(new Uint8Array(16));
const v4 = [
  { addr: Ipv4Address.parse("192.0.2.2"), port: 49152 },
  { addr: Ipv4Address.parse("192.0.2.1"), port: 80 },
] as const;
const v6 = [
  { addr: Ipv6Address.parse("2001:db8::2"), port: 49152 },
  { addr: Ipv6Address.parse("2001:db8::1"), port: 443 },
] as const;
let t = 0;
Deno.bench("initialSequenceNumber IPv4", { group: "isn" }, () => {
  initialSequenceNumber(t++, secret, v4[0], v4[1]);
});
Deno.bench("initialSequenceNumber IPv6", { group: "isn" }, () => {
  initialSequenceNumber(t++, secret, v6[0], v6[1]);
});
