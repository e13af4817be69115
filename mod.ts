/**
 * smolnet: a userspace TCP/IP stack for Deno.
 *
 * @module
 */

export * from "./src/time.ts";
export * from "./src/wire/mod.ts";
