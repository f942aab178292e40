/** Merging message lists from pages, the stream and local sends. @internal */
import type { DecryptedMessage } from '@dmtp/sdk'

const same = (a: DecryptedMessage, b: DecryptedMessage) =>
  a.cid === b.cid && a.status === b.status && a.text === b.text && a.timestamp === b.timestamp

/**
 * Adds `incoming` to `current` by id, sorted by `seq` (one room: seq orders it). A message with a
 * known id replaces the old one (a pattern β migration, or the echo of a local send), unless
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

/** The other party of a message, seen from `me`. */
export function peerOf(message: DecryptedMessage, me: string): string {
  return message.sender.toLowerCase() === me.toLowerCase() ? message.receiver : message.sender
}

export const sameAddress = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()
