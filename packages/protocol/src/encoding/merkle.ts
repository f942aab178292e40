/**
 * A binary SHA-256 hash tree, for one signature over many records (migrated envelopes, protocol.md
 * §5.5). Leaves are hashes the caller computes under its own domain prefix; inner nodes are
 * `sha256("dmtp/v1/batch-node\n" ‖ left ‖ right)`, so no leaf can pass for a node. A node
 * without a sibling at its level moves up unchanged.
 *
 * A proof lists the siblings from the leaf up, each written `l<hash>` (the sibling is on the left)
 * or `r<hash>`, hashes in unpadded base64url: the root follows from the leaf and its proof alone.
 */
import { concatBytes, fromBase64Url, toBase64Url, utf8ToBytes } from './bytes.js'
import type { HashFunction } from './canonical.js'

const NODE_PREFIX = utf8ToBytes('dmtp/v1/batch-node\n')

/** Deepest proof accepted: 4,096 leaves. */
export const MAX_PROOF_LENGTH = 12

/** One proof step: `l` or `r`, then a 32-byte hash as 43 base64url characters. */
export const PROOF_STEP = /^[lr][A-Za-z0-9_-]{43}$/

const node = (hash: HashFunction, left: Uint8Array, right: Uint8Array) => hash(concatBytes(NODE_PREFIX, left, right))

/**
 * The root over `leaves` (in order) and each leaf's proof.
 * @throws {RangeError} for no leaves or more than 2^{@link MAX_PROOF_LENGTH}.
 */
export function merkleTree(hash: HashFunction, leaves: Uint8Array[]): { root: Uint8Array; proofs: string[][] } {
  if (leaves.length === 0 || leaves.length > 2 ** MAX_PROOF_LENGTH) {
    throw new RangeError(`"leaves" expected 1 to ${2 ** MAX_PROOF_LENGTH}, got ${leaves.length}`)
  }
  const proofs: string[][] = leaves.map(() => [])
  let level = leaves.map((leaf, i) => ({ hash: leaf, under: [i] }))
  while (level.length > 1) {
    const next: typeof level = []
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i] as (typeof level)[number]
      const right = level[i + 1]
      if (!right) {
        next.push(left)
        continue
      }
      for (const leaf of left.under) proofs[leaf]?.push(`r${toBase64Url(right.hash)}`)
      for (const leaf of right.under) proofs[leaf]?.push(`l${toBase64Url(left.hash)}`)
      next.push({ hash: node(hash, left.hash, right.hash), under: [...left.under, ...right.under] })
    }
    level = next
  }
  return { root: (level[0] as (typeof level)[number]).hash, proofs }
}

/**
 * The root over `leaves` alone, without the proofs (a signer of many leaves needs only this: the
 * proofs of a 1,024-leaf tree are 10,240 base64url hashes, most of the tree's cost).
 * @throws {RangeError} for no leaves or more than 2^{@link MAX_PROOF_LENGTH}.
 */
export function merkleTreeRoot(hash: HashFunction, leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0 || leaves.length > 2 ** MAX_PROOF_LENGTH) {
    throw new RangeError(`"leaves" expected 1 to ${2 ** MAX_PROOF_LENGTH}, got ${leaves.length}`)
  }
  let level = leaves
  while (level.length > 1) {
    const next: Uint8Array[] = []
    for (let i = 0; i < level.length; i += 2) {
      const right = level[i + 1]
      next.push(right ? node(hash, level[i] as Uint8Array, right) : (level[i] as Uint8Array))
    }
    level = next
  }
  return level[0] as Uint8Array
}

/**
 * The root that `leaf` and `proof` lead to, or undefined for a malformed proof.
 * @param nodes - inner nodes already computed, shared by the proofs of one tree (each node of a
 *   16-leaf tree is on up to 16 of its proofs); keyed by the step and the hash it starts from.
 */
export function merkleRoot(
  hash: HashFunction,
  leaf: Uint8Array,
  proof: readonly unknown[],
  nodes?: Map<string, Uint8Array>,
): Uint8Array | undefined {
  if (!Array.isArray(proof) || proof.length > MAX_PROOF_LENGTH) return undefined
  let current = leaf
  for (const step of proof) {
    if (typeof step !== 'string' || !PROOF_STEP.test(step)) return undefined
    const id = nodes && `${step}${toBase64Url(current)}`
    const known = id && nodes?.get(id)
    if (known) {
      current = known
      continue
    }
    let sibling: Uint8Array
    try {
      sibling = fromBase64Url(step.slice(1))
    } catch {
      return undefined
    }
    current = step[0] === 'l' ? node(hash, sibling, current) : node(hash, current, sibling)
    if (id) nodes?.set(id, current)
  }
  return current
}
