/**
 * The phy layer of smolnet (work in progress).
 *
 * @module
 */

export {};
