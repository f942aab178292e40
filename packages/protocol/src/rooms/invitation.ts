/**
 * Invite links of private groups (docs/private-groups.md §6): a signed token anyone holding it may
 * use to join (or to ask to, when `approval` is set), with an optional expiry and use count that the
 * server enforces. A link names the membership-log head its issuer had seen, so a client checks the
 * issuer's `invite` permission there. (An invitation of one address is no record of its own: it is
 * the signed `invite` event of the membership log, docs/protocol.md §6.4.)
 */
import type { CryptoBackend } from '../crypto/types.js'
import { toBase64Url } from '../encoding/bytes.js'
import { encodeCanonical } from '../encoding/canonical.js'
import { BaseError, SignatureInvalidError } from '../errors.js'
import { signRecord, verifyRecord } from './_signed-record.js'

const INVITE_LINK_PREFIX = 'dmtp/v1/group-invite-link\n'
/** The text form of an invite link: this scheme, then the canonical token in base64url. */
export const INVITE_LINK_SCHEME = 'dmtp-invite:'

export type InviteLink = {
  v: 1
  /** 16 random bytes: the link the server counts uses of. */
  id: string
  room: string
  issuer: string
  issuerKey: string
  logHead: string
  at: string
  /** Null: valid until revoked. */
  expiresAt: string | null
  /** Null: no limit. */
  maxUses: number | null
  /** True: using the link files a join request that a member with `accept_join_request` approves. */
  approval: boolean
  signature: string
}

export type RecordExpiredErrorType = RecordExpiredError & { name: 'RecordExpiredError' }

export class RecordExpiredError extends BaseError {
  override name = 'RecordExpiredError'
  constructor({ what, expiresAt }: { what: string; expiresAt: string }) {
    super(`The ${what} expired at ${expiresAt}.`)
  }
}

/**
 * Signs an invite link with the issuer's DMTP Ed25519 key.
 * @example
 * import { signInviteLink } from '@dmtp/protocol'
 * const link = await signInviteLink(backend, { link: { v: 1, id, room, issuer, issuerKey, logHead, at, expiresAt: null, maxUses: 10, approval: true }, signingKey })
 */
export function signInviteLink(
  backend: CryptoBackend,
  { link, signingKey }: { link: Omit<InviteLink, 'signature'>; signingKey: Uint8Array },
): Promise<InviteLink> {
  return signRecord(backend, INVITE_LINK_PREFIX, link, signingKey)
}

/**
 * Checks an invite link's signature and expiry (the use count is the server's to keep).
 * @throws {SignatureInvalidError} when the issuer's key did not sign exactly this link.
 * @throws {RecordExpiredError} at or after `expiresAt`.
 * @example
 * import { verifyInviteLink } from '@dmtp/protocol'
 * await verifyInviteLink(backend, { link, issuerPublicKey })
 */
export async function verifyInviteLink(
  backend: CryptoBackend,
  { link, issuerPublicKey, now = new Date() }: { link: InviteLink; issuerPublicKey: Uint8Array; now?: Date },
): Promise<void> {
  if (!(await verifyRecord(backend, INVITE_LINK_PREFIX, link, issuerPublicKey))) {
    throw new SignatureInvalidError({ what: 'invite link', reason: `not signed by ${link.issuer}` })
  }
  if (link.expiresAt !== null && now.toISOString() >= link.expiresAt) {
    throw new RecordExpiredError({ what: 'invite link', expiresAt: link.expiresAt })
  }
}

/**
 * True when `publicKey` (the issuer's Ed25519 key) signed exactly this link: what a client
 * replaying a log checks of a join or request that carries one (its expiry is the rules' to check,
 * at the event's time).
 * @example
 * import { verifyInviteLinkSignature } from '@dmtp/protocol'
 * const valid = await verifyInviteLinkSignature(backend, link, issuerPublicKey)
 */
export function verifyInviteLinkSignature(backend: CryptoBackend, link: InviteLink, publicKey: Uint8Array): Promise<boolean> {
  return verifyRecord(backend, INVITE_LINK_PREFIX, link, publicKey)
}

/**
 * The text of an invite link: `dmtp-invite:` and the canonical signed token in base64url
 * (`parseInviteLink` reads it back).
 * @example
 * import { inviteLinkText } from '@dmtp/protocol'
 * const text = inviteLinkText(link) // 'dmtp-invite:eyJhcHByb3ZhbCI6…'
 */
export function inviteLinkText(link: InviteLink): string {
  return INVITE_LINK_SCHEME + toBase64Url(encodeCanonical(link))
}
