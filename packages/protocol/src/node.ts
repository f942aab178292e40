/**
 * @dmtp/protocol/node: the node:crypto backend, for servers and CLIs. Node-only, kept out of the
 * isomorphic entry so browser bundles never see `node:crypto`.
 */
export { nodeCryptoBackend } from './crypto/node-backend.js'
