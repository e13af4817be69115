/**
 * The glue between a `NetStack` and its loop: one poll of the core, the next deadline, whether
 * released sockets linger, and closing the whole stack.
 *
 * @module
 */

import { closeDevice, deviceDeadline } from "../phy/device.ts";
import { earliest, type Instant, NEVER } from "../time.ts";
import { releaseDevice } from "./_device_owner.ts";
import type { StackState } from "./_stack_state.ts";

/**
 * One poll of the core. An error thrown by the device, the interface or a socket fails the
 * stack instead of escaping the loop.
 */
export function pollOnce(s: StackState, now: Instant): boolean {
  try {
    if (s.group !== null) return pollAll(s, now);
    const counters = s.iface.counters;
    const rx = counters.rxFrames;
    const polled = s.iface.poll(now, s.device, s.sockets);
    if (s.autoconfs.length > 0 && pollAutoconfs(s, now)) return true;
    // Another poll at once helps only when ingress stopped at its budget (frames may still
    // wait) or a socket is due now; else the loop waits for the device or a deadline, which
    // saves an empty poll after each busy one.
    return polled &&
      (counters.rxFrames - rx >= s.ingressBudget ||
        s.iface.pollAt(now, s.sockets) <= now);
  } catch (e) {
    s.fail(e, "Stack failed");
    return false;
  }
}

/** `pollOnce` with several interfaces: each polls its own device, in order. */
function pollAll(s: StackState, now: Instant): boolean {
  let again = false;
  for (const m of s.members) {
    const counters = m.iface.counters;
    const rx = counters.rxFrames;
    if (
      m.iface.poll(now, m.device, s.sockets) &&
      (counters.rxFrames - rx >= m.ingressBudget || m.iface.pollAt(now, s.sockets) <= now)
    ) {
      again = true;
    }
  }
  return (s.autoconfs.length > 0 && pollAutoconfs(s, now)) || again;
}

/** Every interface's DHCP client and SLAAC, after the port-68 batch is read. */
function pollAutoconfs(s: StackState, now: Instant): boolean {
  s.dhcpPort?.drain();
  let changed = false;
  for (const a of s.autoconfs) if (a.poll(now)) changed = true;
  return changed;
}

/** The next deadline of the core and the devices. */
export function nextDeadline(s: StackState, now: Instant): Instant {
  try {
    let at = earliest(s.iface.pollAt(now, s.sockets), deviceDeadline(s.device));
    for (let i = 1; i < s.members.length; i++) {
      const m = s.members[i]!;
      at = earliest(at, earliest(m.iface.pollAt(now, s.sockets), deviceDeadline(m.device)));
    }
    // Indexed: this runs once per turn of the loop, and a `for...of` makes an iterator.
    const autoconfs = s.autoconfs;
    for (let i = 0; i < autoconfs.length; i++) at = earliest(at, autoconfs[i]!.pollAt(now));
    return at;
  } catch (e) {
    s.fail(e, "Stack failed");
    return NEVER;
  }
}

/** `NetStack.close`: `owner` is the stack that claimed the device. */
export async function closeStack(s: StackState, owner: object): Promise<void> {
  if (s.closed) return;
  s.closed = true;
  for (const l of s.listeners) {
    try {
      l.close();
    } catch { /* already closed */ }
  }
  for (const u of [...s.flowListeners, ...s.udp]) {
    try {
      u.close();
    } catch { /* already closed */ }
  }
  s.abortAll();
  try {
    s.driver.flush();
  } catch { /* a failing poll while closing: the stack is going away anyway */ }
  for (const a of s.autoconfs) a.close();
  s.dhcpPort?.close();
  s.driver.stop();
  for (const m of s.members) releaseDevice(m.device, owner);
  await Promise.all(s.members.map((m) => closeDevice(m.device)));
}
