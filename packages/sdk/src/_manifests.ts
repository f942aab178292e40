/**
 * Walks the anchored manifests in chain order. Each must be served (by CID, hash-checked), parse as
 * a manifest, and continue the chain: `index` one more than the previous and `prev` its CID. A
 * server that restarted without its database starts a new chain (index 1, prev null); that is
 * reported as a break, not hidden.
 * @internal
 */
import { type Manifest, manifestSchema } from '@dmtp/protocol'
import { fetchBlock } from './_blocks.js'
import type { RegistryReader } from './_chain.js'
import type { DmtpClientBase } from './client.js'

export type AnchoredManifest = { chainIndex: number; cid: string; manifest: Manifest | undefined; problem?: string }

export type ProgressReporter = (progress: { phase: 'manifests' | 'rooms' | 'messages'; done: number; total: number }) => void

const PAGE = 200

export async function readManifests(
  client: DmtpClientBase,
  reader: RegistryReader,
  onProgress?: ProgressReporter,
): Promise<{ manifests: AnchoredManifest[]; breaks: number }> {
  const total = await reader.anchorCount()
  const cids: string[] = []
  for (let start = 0; start < total; start += PAGE) cids.push(...(await reader.anchors(start, PAGE)))
  const manifests: AnchoredManifest[] = []
  let breaks = 0
  let previous: AnchoredManifest | undefined
  for (const [chainIndex, cid] of cids.entries()) {
    const entry: AnchoredManifest = { chainIndex, cid, manifest: undefined }
    try {
      const value = await fetchBlock(client, cid)
      if (value === undefined) entry.problem = 'the server does not serve this anchored manifest'
      else {
        const parsed = manifestSchema.safeParse(value)
        if (parsed.success) entry.manifest = parsed.data
        else entry.problem = 'the anchored block is not a manifest'
      }
    } catch (error) {
      entry.problem = error instanceof Error ? error.message : String(error)
    }
    const expected = previous?.manifest ? { index: previous.manifest.index + 1, prev: previous.cid } : undefined
    if (entry.manifest && expected && (entry.manifest.index !== expected.index || entry.manifest.prev !== expected.prev)) {
      const restarted = entry.manifest.index === 1 && entry.manifest.prev === null
      breaks++
      if (!restarted) entry.problem = `manifest ${cid} does not continue the chain of manifests`
    }
    manifests.push(entry)
    previous = entry
    onProgress?.({ phase: 'manifests', done: chainIndex + 1, total })
  }
  return { manifests, breaks }
}
