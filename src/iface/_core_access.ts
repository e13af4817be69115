/**
 * Access to an {@linkcode Interface}'s state for the iface folder's own modules (the forwarder
 * sends through other interfaces' egress), without a public accessor. Not exported.
 *
 * @module
 */

import type { IfaceCore } from "./iface_state.ts";
import type { Interface } from "./interface.ts";

let access: ((iface: Interface) => IfaceCore) | null = null;

/** Called once by `Interface`'s static initializer. */
export function registerCoreAccess(get: (iface: Interface) => IfaceCore): void {
  access = get;
}

/** The state behind `iface`. */
export function coreOf(iface: Interface): IfaceCore {
  return access!(iface);
}
