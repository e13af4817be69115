import { Interface, type InterfaceConfig } from "../../src/iface/interface.ts";
import { SocketSet } from "../../src/iface/socket_set.ts";
import { type LinkDevice, linkPair } from "../../src/phy/link.ts";
import type { Device } from "../../src/phy/device.ts";

export const MAC_A = "02:00:00:00:00:0a";
export const MAC_B = "02:00:00:00:00:0b";

export interface Host {
  iface: Interface;
  dev: LinkDevice;
  sockets: SocketSet;
}

/** Two interfaces over one in-memory link, A = .1 / ::1, B = .2 / ::2. */
export function pair(
  medium: "ethernet" | "ip",
  extraA: Partial<InterfaceConfig> = {},
  extraB: Partial<InterfaceConfig> = {},
  link: { mtu?: number; queueLen?: number } = {},
): [Host, Host] {
  const [da, db] = linkPair({ medium, ...link });
  const base = (mac: string, n: number): InterfaceConfig => ({
    medium,
    ...(medium === "ethernet" ? { hardwareAddr: mac } : {}),
    addresses: [`192.0.2.${n}/24`, `2001:db8::${n}/64`, `fe80::${n}/64`],
    seed: n,
    isnSecret: new Uint8Array(16).fill(n),
    gratuitousArp: false,
  });
  return [
    { iface: new Interface({ ...base(MAC_A, 1), ...extraA }), dev: da, sockets: new SocketSet() },
    { iface: new Interface({ ...base(MAC_B, 2), ...extraB }), dev: db, sockets: new SocketSet() },
  ];
}

/** Polls both hosts at each instant from `from` to `to` (inclusive) by `step`. */
export function run(hosts: Host[], from: number, to: number, step = 1): void {
  for (let t = from; t <= to; t += step) {
    for (let i = 0; i < 4; i++) {
      let any = false;
      for (const h of hosts) any = h.iface.poll(t, h.dev, h.sockets) || any;
      if (!any) break;
    }
  }
}

/** Collects every frame a device would receive, without delivering it. */
export function drain(dev: Device, now = 0): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let f = dev.receive(now); f !== null; f = dev.receive(now)) out.push(f.slice());
  return out;
}

/** Pushes raw frames into `dev`'s peer so that `dev` receives them. */
export function inject(peer: Device, frames: Uint8Array[], now = 0): void {
  for (const f of frames) {
    const buf = peer.transmit(now, f.length);
    if (buf === null) throw new Error("link full");
    buf.set(f);
    peer.commit();
  }
}
