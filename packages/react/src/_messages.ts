/** Merging message lists from pages, the stream and local posts; reading system lines. @internal */
import type { DecryptedMessage } from '@dmtp/sdk'

const same = (a: DecryptedMessage, b: DecryptedMessage) =>
  a.cid === b.cid && a.status === b.status && a.text === b.text && a.timestamp === b.timestamp

/**
 * Adds `incoming` to `current` by id, sorted by `seq` (one room: seq orders it). A message with a
 * known id replaces the old one (a pattern β migration, or the echo of a local post), unless
 * `local`: a locally built message never replaces what the server sent. Returns `current` itself
 * when nothing changed, so React skips the render.
 */
export function mergeMessages(
  current: DecryptedMessage[],
  incoming: DecryptedMessage[],
  { local = false }: { local?: boolean } = {},
): DecryptedMessage[] {
  const byId = new Map(current.map((message) => [message.id, message]))
  let changed = false
  for (const message of incoming) {
    const existing = byId.get(message.id)
    if (existing && (local || same(existing, message))) continue
    byId.set(message.id, message)
    changed = true
  }
  if (!changed) return current
  return [...byId.values()].sort((a, b) => a.seq - b.seq)
}

export const sameAddress = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()

const ADDRESS = /^0x[0-9a-fA-F]{40}$/

/** A wallet address (a 1:1 peer), as opposed to a room id. */
export const isAddress = (value: string) => ADDRESS.test(value)

/** How a membership-log entry can end the wallet's membership. */
export type Removal = { type: 'kick' | 'ban' | 'leave' | 'delete'; by: string; at: string; until: string | null }

/**
 * The removal a system line may mean for `me`: a kick or ban naming it (or everyone), its own
 * leaving, the room's deletion. Whether an `all` kick reached `me` depends on its role: the
 * caller asks the server.
 */
export function removalOf(message: DecryptedMessage, me: string): Removal | undefined {
  const event = message.event
  if (message.type !== 'system' || !event) return undefined
  const base = { by: event.actor, at: event.at, until: null }
  switch (event.type) {
    case 'kick':
    case 'ban': {
      const named = event.all === true || (event.members ?? []).some((address) => sameAddress(address, me))
      if (!named || sameAddress(event.actor, me)) return undefined
      return { ...base, type: event.type, until: event.type === 'ban' ? (event.until ?? null) : null }
    }
    case 'leave':
      return sameAddress(event.actor, me) ? { ...base, type: 'leave' } : undefined
    case 'delete':
      return { ...base, type: 'delete' }
    default:
      return undefined
  }
}
