/**
 * Length padding of encrypted content (docs/metadata.md): the canonical JSON is followed by
 * spaces up to the next bucket, so a ciphertext tells the server a size class, not the exact
 * length ("yes" and "no" look the same). JSON allows trailing whitespace, so every decoder —
 * including those from before padding — reads padded and unpadded content alike.
 */

/** The smallest bucket; above it buckets double. */
export const MIN_PADDED_LENGTH = 256
/** The last bucket is the largest content a message may carry (16,000 UTF-16 units as UTF-8, and JSON). */
export const MAX_PADDED_LENGTH = 16_000 * 3 + 64

const SPACE = 0x20

/** The bucket a plaintext of `length` bytes is padded to. */
export function paddedLength(length: number): number {
  let bucket = MIN_PADDED_LENGTH
  while (bucket < length) bucket *= 2
  return Math.max(length, Math.min(bucket, MAX_PADDED_LENGTH))
}

/**
 * `plaintext` followed by spaces up to its bucket.
 * @example
 * padPlaintext(utf8ToBytes('{"text":"yes","type":"text"}')).length // 256
 */
export function padPlaintext(plaintext: Uint8Array): Uint8Array {
  const padded = new Uint8Array(paddedLength(plaintext.length)).fill(SPACE)
  padded.set(plaintext)
  return padded
}
