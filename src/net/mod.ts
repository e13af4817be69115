/**
 * The net layer of smolnet (work in progress).
 *
 * @module
 */

export {};
