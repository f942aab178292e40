/**
 * Canonical encoding and content addresses. Every record DMTP signs or stores is a DAG-JSON
 * block (https://ipld.io/specs/codecs/dag-json/spec/): keys sorted, no whitespace, one byte
 * string for one value. Its address is a CIDv1 with the dag-json codec and a sha2-256 multihash,
 * so the same record has the same CID on every client, server and IPFS node.
 */
import * as dagJson from '@ipld/dag-json'
import { sha256 } from '@noble/hashes/sha2.js'
import { base32 } from 'multiformats/bases/base32'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { bytesToUtf8, concatBytes, utf8ToBytes } from './bytes.js'

const SHA2_256 = 0x12

/** Encodes a JSON-compatible value as canonical DAG-JSON bytes. */
export function encodeCanonical(value: unknown): Uint8Array {
  const text = fastCanonicalText(value)
  return text === undefined ? dagJson.encode(value) : utf8ToBytes(text)
}

/**
 * `prefix ‖ encodeCanonical(value)` (domain-separated bytes to sign, hash or authenticate), in
 * one UTF-8 encoding instead of an encoding and a copy.
 */
export function encodeCanonicalWithPrefix(prefix: string, value: unknown): Uint8Array {
  const text = fastCanonicalText(value)
  return text === undefined ? concatBytes(utf8ToBytes(prefix), dagJson.encode(value)) : utf8ToBytes(prefix + text)
}

/** The canonical DAG-JSON encoding as text (records are stored and spliced as text). */
export function canonicalText(value: unknown): string {
  return fastCanonicalText(value) ?? bytesToUtf8(dagJson.encode(value))
}

// Printable ASCII without `"` and `\`: JSON and DAG-JSON write these strings identically.
const PLAIN_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/

/**
 * DMTP records are objects of ASCII strings and safe integers, for which canonical DAG-JSON is
 * plain JSON with sorted keys. Building that string is ~7× faster than the general encoder; any
 * other value returns undefined and takes the general path. A property test checks both agree.
 */
function fastCanonicalText(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return PLAIN_STRING.test(value) ? `"${value}"` : undefined
    case 'number':
      return Number.isSafeInteger(value) && !Object.is(value, -0) ? String(value) : undefined
    case 'boolean':
      return value ? 'true' : 'false'
    case 'object': {
      if (value === null) return 'null'
      if (Array.isArray(value)) {
        const items: string[] = []
        for (const item of value) {
          const text = fastCanonicalText(item)
          if (text === undefined) return undefined
          items.push(text)
        }
        return `[${items.join(',')}]`
      }
      if (Object.getPrototypeOf(value) !== Object.prototype) return undefined
      const record = value as Record<string, unknown>
      const parts: string[] = []
      for (const key of Object.keys(record).sort()) {
        // JSON.parse would turn it into the prototype instead of a key: such a block cannot round-trip.
        if (key === '__proto__') throw new TypeError('"record" expected no "__proto__" key')
        const item = record[key]
        if (!PLAIN_STRING.test(key) || item === undefined) return undefined
        const text = fastCanonicalText(item)
        if (text === undefined) return undefined
        parts.push(`"${key}":${text}`)
      }
      return `{${parts.join(',')}}`
    }
    default:
      return undefined
  }
}

/** Decodes DAG-JSON bytes; rejects non-canonical input (unsorted keys, whitespace). */
export function decodeCanonical<T = unknown>(bytes: Uint8Array): T {
  const value = dagJson.decode<T>(bytes)
  const again = dagJson.encode(value)
  if (again.length !== bytes.length || !again.every((byte, i) => byte === bytes[i])) {
    throw new TypeError('"dag-json" expected canonical encoding, got a non-canonical block')
  }
  return value
}

export type HashFunction = (data: Uint8Array) => Uint8Array

/**
 * The CIDv1 (dag-json, sha2-256) of a block.
 * @param hash - a sha-256 implementation; pass the native one on hot paths.
 */
export function cidOfBlock(bytes: Uint8Array, hash: HashFunction = sha256): string {
  const digest = hash(bytes)
  if (digest.length !== 32) throw new RangeError(`"sha-256 digest" expected 32 bytes, got ${digest.length}`)
  // CIDv1 = varint(1) varint(0x0129 dag-json) varint(0x12 sha2-256) varint(32) digest, in
  // multibase base32: the same string CID.create(…).toString() gives, without its allocations.
  const cid = new Uint8Array(CID_PREFIX.length + 32)
  cid.set(CID_PREFIX)
  cid.set(digest, CID_PREFIX.length)
  return base32.encode(cid)
}

const CID_PREFIX = new Uint8Array([0x01, 0xa9, 0x02, SHA2_256, 0x20])

/** Encodes a record canonically and returns both its bytes and its CID. */
export function toBlock(value: unknown, hash: HashFunction = sha256): { bytes: Uint8Array; text: string; cid: string } {
  const text = canonicalText(value)
  const bytes = utf8ToBytes(text)
  return { bytes, text, cid: cidOfBlock(bytes, hash) }
}

/**
 * Parses a CID string and checks it is a DMTP block address (CIDv1, dag-json or raw, sha2-256).
 * @throws {TypeError} when the string is not such a CID.
 */
export function parseCid(text: string): CID {
  let cid: CID
  try {
    cid = CID.parse(text)
  } catch (cause) {
    throw new TypeError(`"cid" expected a CIDv1 string, got ${JSON.stringify(text.slice(0, 80))}`, { cause })
  }
  if (cid.version !== 1 || cid.multihash.code !== SHA2_256 || cid.toString() !== text) {
    throw new TypeError(`"cid" expected a canonical CIDv1 with sha2-256, got ${JSON.stringify(text.slice(0, 80))}`)
  }
  return cid
}

/** True when `bytes` hash to `cid` (the check any reader of a block store must make). */
export function blockMatchesCid(bytes: Uint8Array, cid: string, hash: HashFunction = sha256): boolean {
  const parsed = parseCid(cid)
  return CID.create(1, parsed.code, Digest.create(SHA2_256, hash(bytes))).toString() === cid
}
