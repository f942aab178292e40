/**
 * Folds a room's positions into what a timeline shows: each message with its reactions (counts
 * per emoji), its newest edit, whether it was recalled or pinned, the message it replies to; and
 * membership changes as system lines. Pure: pass every position loaded so far (in any order).
 * Actions count only when they verified and are allowed on their target: an edit by its author, a
 * recall by its author or by a moderator (`recall_others` at that position). An action that fails
 * verification is kept as an item (its status says why); one whose words the server deleted with a
 * recall (`withheld`) is left out.
 */
import type { DecryptedMessage } from '../_decrypt.js'

export type Reaction = { emoji: string; count: number; mine: boolean; by: string[] }

export type MessageView = DecryptedMessage & {
  reactions: Reaction[]
  edited: boolean
  recalled: { by: string; at: string } | null
  pinned: boolean
  replyTo: { id: string; sender: string | null; text: string | null } | null
  /** The message mentions the wallet folding. */
  mentionsMe: boolean
}

export type FoldMessagesParameters = { me: string }

/**
 * @example
 * import { foldMessages } from '@dmtp/sdk'
 * const views = foldMessages(page.messages, { me: address })
 * for (const m of views) console.log(m.recalled ? '(recalled)' : m.text, m.reactions)
 */
export function foldMessages(messages: readonly DecryptedMessage[], { me }: FoldMessagesParameters): MessageView[] {
  const sorted = [...new Map(messages.map((message) => [message.cid, message])).values()].sort((a, b) => a.seq - b.seq)
  const views: MessageView[] = []
  const byId = new Map<string, MessageView>()
  const reactions = new Map<string, Map<string, Set<string>>>()
  const meLower = me.toLowerCase()
  for (const message of sorted) {
    const isAction = message.type !== 'message' && message.type !== 'system'
    // An action whose words the server no longer holds (the edit of a recalled message) says nothing.
    if (isAction && message.status === 'withheld') continue
    if (!isAction || message.status !== 'ok') {
      const view: MessageView = {
        ...message,
        reactions: [],
        edited: false,
        recalled: null,
        pinned: false,
        replyTo: null,
        mentionsMe: message.mentions.some((address) => address.toLowerCase() === meLower),
      }
      views.push(view)
      if (message.type === 'message') byId.set(message.id, view)
      if (message.type === 'system' && message.status === 'ok' && message.event?.type === 'ban' && message.event.removeMessages) {
        const banned = new Set(message.event.members ?? [])
        for (const earlier of views) {
          if (earlier.type === 'message' && banned.has(earlier.sender) && !earlier.recalled) recallView(earlier, message)
        }
      }
      continue
    }
    const target = message.ref ? byId.get(message.ref) : undefined
    if (!target || target.recalled) continue
    switch (message.type) {
      case 'edit':
        if (message.sender === target.sender && (target.status === 'ok' || target.status === 'withheld')) {
          target.text = message.text
          target.mentions = message.mentions
          target.edited = true
        }
        break
      case 'react':
      case 'unreact': {
        let byEmoji = reactions.get(target.id)
        if (!byEmoji) {
          byEmoji = new Map()
          reactions.set(target.id, byEmoji)
        }
        const emoji = message.emoji as string
        const senders = byEmoji.get(emoji) ?? new Set<string>()
        if (message.type === 'react') senders.add(message.sender)
        else senders.delete(message.sender)
        byEmoji.set(emoji, senders)
        break
      }
      case 'recall':
        if (message.sender === target.sender || message.recallOthers) recallView(target, message)
        break
      case 'pin':
      case 'unpin':
        target.pinned = message.type === 'pin'
        break
    }
  }
  // Quotes last: a reply shows the original as edited since, and nothing of it once recalled.
  for (const view of views) {
    if (view.type !== 'message' || !view.ref) continue
    const target = byId.get(view.ref)
    view.replyTo = { id: view.ref, sender: target?.sender ?? null, text: target && !target.recalled ? target.text : null }
  }
  for (const [id, byEmoji] of reactions) {
    const view = byId.get(id)
    if (!view) continue
    view.reactions = [...byEmoji]
      .filter(([, senders]) => senders.size > 0)
      .map(([emoji, senders]) => ({
        emoji,
        count: senders.size,
        mine: [...senders].some((sender) => sender.toLowerCase() === meLower),
        by: [...senders],
      }))
  }
  return views
}

function recallView(view: MessageView, by: DecryptedMessage): void {
  view.recalled = { by: by.sender, at: by.timestamp }
  view.text = null
  view.emoji = null
  view.mentions = []
  view.pinned = false
  // Words the server deleted on a valid recall are no longer a problem.
  if (view.status === 'withheld') view.status = 'ok'
}
