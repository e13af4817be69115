/**
 * The iface layer of smolnet (work in progress).
 *
 * @module
 */

export {};
