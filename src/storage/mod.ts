/**
 * The storage layer of smolnet (work in progress).
 *
 * @module
 */

export {};
