/**
 * The socket layer of smolnet (work in progress).
 *
 * @module
 */

export {};
