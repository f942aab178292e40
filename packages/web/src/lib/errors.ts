/**
 * Turns errors from the wallet, the network and the SDK into sentences a person can act on. The
 * technical message is kept for the details line.
 */
import { ApiError, BaseError } from '@dmtp/sdk'
import { formatDateTime } from './format.js'

export type FriendlyError = { title: string; detail?: string | undefined }

export function friendlyError(error: unknown): FriendlyError {
  const code = (error as { code?: unknown } | null)?.code
  const raw = error instanceof BaseError ? error.shortMessage : error instanceof Error ? error.message : String(error)
  if (code === 4001 || /user (rejected|denied)/i.test(raw))
    return { title: 'You declined the request in your wallet. Nothing was sent or changed.' }
  if (code === 4100) return { title: 'Your wallet did not allow this site to use that account. Unlock it and try again.' }
  if (error instanceof TypeError && /fetch|network/i.test(raw))
    return { title: 'The DMTP server cannot be reached. Check your connection; the app retries by itself.', detail: raw }
  if (error instanceof ApiError) {
    switch (error.code) {
      case 'rate_limited':
        return { title: 'Too many requests for now. Wait a few seconds and try again.', detail: raw }
      case 'unavailable':
        return { title: 'The connection to the server dropped before it answered. Try again when it is back.', detail: raw }
      case 'key_not_found':
        return { title: 'That address has not set up DMTP yet.', detail: raw }
      case 'muted': {
        const until = /until (\S+?)\.?$/.exec(raw)?.[1]
        return { title: `You are muted in this room${untilText(until)}. Your message was not sent.` }
      }
      case 'banned':
        return { title: 'You are banned from this room. Nothing was sent.' }
      case 'not_member':
        return { title: 'You are not a member of this room (any more). Nothing was sent.' }
      case 'forbidden':
        return { title: `Your role does not allow this here: ${raw}` }
      case 'room_not_found':
        return { title: 'This room does not exist, or it is private and you are not in it.' }
      case 'auth_required':
      case 'invalid_token':
      case 'token_expired':
        return { title: 'Your session ended. Unlock again with your wallet.', detail: raw }
      default:
        return { title: `The server refused this: ${raw}` }
    }
  }
  if (error instanceof RangeError) return { title: raw.replace(/^"text" expected/, 'Messages can be') }
  if (error instanceof BaseError) return { title: raw, detail: error.details || undefined }
  return { title: 'Something went wrong.', detail: raw }
}

/** " until 14:05" (or a date), "" for no end, " for good" for a mute without end. */
export function untilText(until: string | null | undefined): string {
  if (!until) return ''
  if (until.startsWith('9999')) return ' for good'
  const date = new Date(until)
  if (Number.isNaN(date.getTime())) return ''
  return ` until ${formatDateTime(until)}`
}
