/**
 * The time bounds of anchored manifests, checked against the chain (protocol.md §5.4). A manifest's
 * anchor is its upper bound: it existed by the block whose `CIDStored` event anchors it, so its
 * `createdAt` cannot be later. Its `after` block is its lower bound: a block's hash is known to no
 * one before it is mined, so a manifest naming it was made after it. Checked here: the named block
 * is on this chain with that hash, precedes the anchoring block, and `createdAt` lies between the
 * two blocks' times. A manifest without `after` is unbounded below (made before the field existed)
 * unless an earlier one carried it: dropping it again is a failure.
 * @internal
 */
import type { ChainBlock, RegistryReader } from './_chain.js'
import type { AnchoredManifest } from './_manifests.js'

/** Slack for block timestamps (set by the node, within seconds) against the server's clock. */
export const BLOCK_TIME_GRACE_MS = 60_000

/** A bound this much older than the anchor is weak (a server may name an old block): a warning. */
export const WEAK_BOUND_MS = 24 * 60 * 60_000

export type TimeBoundProblem = { cid: string; chainIndex: number; reason: string }

export type TimeBoundsReport = {
  /** Manifests whose `after` block was checked and holds. */
  bounded: number
  /** Manifests without `after`, none before them with one (older servers). */
  unbounded: number
  failures: TimeBoundProblem[]
  /** Bounds that hold but are more than {@link WEAK_BOUND_MS} older than the anchor. */
  weak: TimeBoundProblem[]
}

const PARALLEL = 8

export async function checkTimeBounds(reader: RegistryReader, manifests: AnchoredManifest[]): Promise<TimeBoundsReport> {
  const report: TimeBoundsReport = { bounded: 0, unbounded: 0, failures: [], weak: [] }
  const served = manifests.filter((entry) => entry.manifest)
  if (served.length === 0) return report
  const anchoredIn = await reader.anchorBlocks()
  const blocks = new Map<bigint, Promise<ChainBlock | undefined>>()
  const block = (number: bigint) => {
    let found = blocks.get(number)
    if (!found) {
      found = reader.block(number)
      blocks.set(number, found)
    }
    return found
  }
  // Fetched ahead, a few at a time; checked below in chain order.
  const wanted = [
    ...new Set(
      served.flatMap(({ chainIndex, manifest }) => [
        ...(anchoredIn.has(chainIndex) ? [anchoredIn.get(chainIndex) as bigint] : []),
        ...(manifest?.after ? [BigInt(manifest.after.number)] : []),
      ]),
    ),
  ]
  for (let i = 0; i < wanted.length; i += PARALLEL) await Promise.all(wanted.slice(i, i + PARALLEL).map(block))

  let boundSeen = false
  for (const { cid, chainIndex, manifest } of served) {
    if (!manifest) continue
    const fail = (reason: string) => report.failures.push({ cid, chainIndex, reason })
    const anchorNumber = anchoredIn.get(chainIndex)
    const anchor = anchorNumber === undefined ? undefined : await block(anchorNumber)
    if (anchorNumber === undefined || !anchor) {
      fail('the chain shows no block that anchored it')
      continue
    }
    const createdAt = Date.parse(manifest.createdAt)
    if (createdAt > anchor.timestamp * 1000 + BLOCK_TIME_GRACE_MS) {
      fail(`dated ${manifest.createdAt}, after block ${anchorNumber} that anchored it`)
      continue
    }
    const after = manifest.after
    if (!after) {
      if (boundSeen) fail('it carries no time bound, where the manifests before it did')
      else report.unbounded++
      continue
    }
    boundSeen = true
    const named = await block(BigInt(after.number))
    if (!named) fail(`it names block ${after.number}, which this chain does not have`)
    else if (named.hash !== after.hash) fail(`it names block ${after.number} with another hash than this chain's`)
    else if (named.number >= anchorNumber)
      fail(`it names block ${after.number}, not before block ${anchorNumber} that anchored it`)
    else if (createdAt < named.timestamp * 1000 - BLOCK_TIME_GRACE_MS) {
      fail(`back-dated: dated ${manifest.createdAt}, before block ${after.number} it names as made after`)
    } else {
      report.bounded++
      if ((anchor.timestamp - named.timestamp) * 1000 > WEAK_BOUND_MS) {
        report.weak.push({ cid, chainIndex, reason: `its bound, block ${after.number}, is over a day older than its anchor` })
      }
    }
  }
  return report
}
