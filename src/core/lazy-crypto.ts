/**
 * Node's crypto, loaded on first use: a static import cost every command ~15 ms of start-up, and
 * most commands never make a random name or a hash.
 */
export function nodeCrypto(): typeof import('node:crypto') {
  return process.getBuiltinModule('node:crypto');
}
