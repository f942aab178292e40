/**
 * Blocks by CID from the server's trustless gateway (`GET /ipfs/<cid>`). The client hashes what
 * it gets: a server can refuse a block, but never pass off other bytes under its CID.
 * @internal
 */
import { ApiError, blockMatchesCid, decodeCanonical } from '@dmtp/protocol'
import type { DmtpClientBase } from './client.js'

/** The block's decoded DAG-JSON value, or undefined when the server does not have it. */
export async function fetchBlock<T = unknown>(client: DmtpClientBase, cid: string): Promise<T | undefined> {
  const crypto = await client.getCrypto()
  let response: Response
  try {
    response = await client.fetch(`${client.server}/ipfs/${cid}`, {
      headers: { accept: 'application/vnd.ipld.raw', ...(client.apiKey ? { 'x-dmtp-api-key': client.apiKey } : {}) },
    })
  } catch (cause) {
    throw new ApiError({ code: 'unavailable', message: `Cannot reach the DMTP server at ${client.server}.`, cause })
  }
  if (response.status === 404) return undefined
  if (!response.ok)
    throw new ApiError({ code: 'upstream_failure', message: `GET /ipfs/${cid} answered HTTP ${response.status}.` })
  const bytes = new Uint8Array(await response.arrayBuffer())
  if (!blockMatchesCid(bytes, cid, crypto.sha256)) {
    throw new ApiError({ code: 'upstream_failure', message: `The server served bytes that do not hash to ${cid}.` })
  }
  return decodeCanonical<T>(bytes)
}
