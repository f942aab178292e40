/**
 * @dmtp/contracts: the DMTPRegistry contract's ABI and creation bytecode, compiled from
 * `src/DMTPRegistry.sol` by `scripts/compile.mjs` (solc-js, explicit evmVersion).
 */
export {
  dmtpRegistryAbi,
  dmtpRegistryBytecode,
  dmtpRegistryCompiler,
  dmtpRegistryEvmVersion,
  dmtpRegistrySourceSha256,
} from '../generated/dmtp-registry.js'
