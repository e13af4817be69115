/**
 * Waiter lists (pending reads, writes and accepts) worked through first in, first out.
 *
 * @module
 */

/**
 * Removes and returns the first waiter of `list`. The last one is popped, not shifted: V8 trims
 * the storage of an array shifted empty from the front, so the next push (the next wait, on
 * every connection) allocated it again; a pop leaves room for it.
 */
export function takeFirst<T>(list: T[]): T | undefined {
  return list.length === 1 ? list.pop() : list.shift();
}
