/**
 * Wallets for the group benchmarks, thousands of them, without a wallet signature each. Setting
 * up keys and signing in cost an EIP-191 signature apiece (seconds per thousand wallets, and
 * neither is on the path measured), so each wallet gets here: real DMTP keys (X25519 and Ed25519,
 * generated with node:crypto), a key bundle naming them, and a session token; the server's own
 * process writes the bundle, the session (SHA-256 of the token, as the auth service stores it)
 * and the user row into its database (`group-server-process.ts`). The bundle's wallet signature
 * is a placeholder: the server checks it once, when a bundle is uploaded, and never again, while
 * every room event and message is checked against the bundle's Ed25519 key, as for any wallet.
 *
 * Everything else goes through the real API: creating rooms, joining them (signed join events),
 * sending (signed envelopes of rooms without E2EE).
 */
import { createHash, randomBytes } from 'node:crypto'
import {
  type KeyBundle,
  type MessageContent,
  type RoomEvent,
  type RoomEventBody,
  SIGNED_SUITE,
  type SignedEnvelope,
  sealSignedEnvelope,
  signRoomEvent,
  toBase64Url,
  toBlock,
  type UnsignedRoomEvent,
} from '@dmtp/protocol'
import { nodeCryptoBackend as crypto } from '@dmtp/protocol/node'
import { getAddress } from 'viem'
import { makeKeyPair } from './_key-pairs.js'

export type Member = {
  address: string
  token: string
  /** The CID of its key bundle (`actorKey`, `senderKey`). */
  cid: string
  /** Its Ed25519 secret key (32 bytes). */
  signingKey: Uint8Array
  /** Its Ed25519 public key. */
  verifyKey: Uint8Array
  /** Its X25519 key pair, for the private-room benchmark (wrapping and opening room keys). */
  agreement: { publicKey: Uint8Array; secretKey: Uint8Array }
}

/** What the server process writes for one member. */
export type SeedRow = { address: string; cid: string; bundle: string; issuedAt: string; tokenHash: string }

export type ServerIdentity = { domain: string; chainId: number }

/** `count` members: their keys and token here, the rows the server writes for them. */
export function makeMembers(count: number, { domain, chainId }: ServerIdentity): { members: Member[]; rows: SeedRow[] } {
  const members: Member[] = []
  const rows: SeedRow[] = []
  const issuedAt = new Date().toISOString()
  for (let i = 0; i < count; i++) {
    const signing = makeKeyPair('ed25519')
    const agreement = makeKeyPair('x25519')
    const address = getAddress(`0x${randomBytes(20).toString('hex')}`)
    const bundle: KeyBundle = {
      v: 1,
      address,
      DMTPpubKey: { x25519: toBase64Url(agreement.publicKey), ed25519: toBase64Url(signing.publicKey) },
      // The shape `wrapDmtpKeys` makes; nobody unwraps these keys, the bench holds them.
      DMTPpriKey: {
        scheme: 'eip191-hkdf-aes256gcm',
        salt: randomBytes(16).toString('base64url'),
        nonce: randomBytes(12).toString('base64url'),
        ciphertext: randomBytes(124).toString('base64url'),
      },
      domain,
      chainId,
      nonce: randomBytes(16).toString('base64url'),
      issuedAt,
      Signature: `0x${'00'.repeat(65)}`,
    }
    const { cid, text } = toBlock(bundle, crypto.sha256)
    const token = `dmtp_${randomBytes(32).toString('base64url')}`
    members.push({
      address,
      token,
      cid,
      signingKey: signing.secretKey,
      verifyKey: signing.publicKey,
      agreement: { publicKey: agreement.publicKey, secretKey: agreement.secretKey },
    })
    rows.push({ address, cid, bundle: text, issuedAt, tokenHash: createHash('sha256').update(token).digest('hex') })
  }
  return { members, rows }
}

export function randomId(): string {
  return toBase64Url(crypto.randomBytes(16))
}

/** A room event signed by `member` (basis 0: the oldest position, always acceptable). */
export function signEvent(member: Member, room: string, body: RoomEventBody): Promise<RoomEvent> {
  const event = {
    v: 1,
    id: randomId(),
    room,
    actor: member.address,
    actorKey: member.cid,
    at: new Date().toISOString(),
    basis: 0,
    ...body,
  } as UnsignedRoomEvent
  return signRoomEvent(crypto, { event, signingKey: member.signingKey })
}

export type SignedMessage = { envelope: SignedEnvelope; content: MessageContent }

/** A text message of a room without E2EE, signed by `member`, naming the log head it saw. */
export async function sealMessage(member: Member, room: string, logHead: string, text: string): Promise<SignedMessage> {
  const content: MessageContent = { type: 'text', text }
  const { envelope } = await sealSignedEnvelope(crypto, {
    header: {
      v: 1,
      suite: SIGNED_SUITE,
      id: randomId(),
      room,
      sender: member.address,
      senderKey: member.cid,
      timestamp: new Date().toISOString(),
      logHead,
    },
    content,
    signingKey: member.signingKey,
  })
  return { envelope, content }
}

/** `count` messages of about the size of a short chat line (~80 characters). */
export async function sealMessages(member: Member, room: string, logHead: string, count: number, label: string) {
  const messages: SignedMessage[] = []
  for (let i = 0; i < count; i++) messages.push(await sealMessage(member, room, logHead, `${label} ${i} ${'x'.repeat(64)}`))
  return messages
}
