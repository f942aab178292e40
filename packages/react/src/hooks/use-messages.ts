/**
 * `useMessages(room)`: one room's timeline, for a chat view: a room id, or a wallet address for
 * the 1:1 room with it. The newest page first (`client.messages(room, { order: 'desc' })`), older
 * pages on demand with `loadOlder()`, and new positions live from the provider's stream, by id,
 * without duplicates: messages, their actions (reactions, edits, recalls, pins) and membership
 * changes (system lines). It holds every position loaded so far (`messages`) and their fold
 * (`timeline`: each message with its reactions, newest edit, recall, pin and the message it
 * replies to). A position that changes on the server keeps its id and is replaced in place: a
 * relayed message made end-to-end by the receiver (pattern β), or the stream's echo of a message
 * this app just posted.
 */
import {
  type DecryptedMessage,
  foldMessages,
  type HistoryGap,
  type MessageView,
  type PostResult,
  type SendReturnType,
} from '@dmtp/sdk'
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react'
import { useDMTPStore } from '../_context.js'
import { mergeMessages, sameAddress } from '../_messages.js'
import { type DmtpStore, type MessageAction, toError } from '../_store.js'
import { DMTPNotConnectedError } from '../errors.js'

export type UseMessagesParameters = {
  /** Positions per page, for the first load and each `loadOlder()`. Default 50, at most 500. */
  pageSize?: number | undefined
}

export type SendOptions = {
  /** The id of the message this one replies to. */
  replyTo?: string | undefined
  /** Addresses to highlight the message for. */
  mentions?: string[] | undefined
}

export type UseMessagesReturnType = {
  /** The room id (a peer address passed in is resolved to its 1:1 room); null until known. */
  room: string | null
  /** Every position loaded, oldest first: messages, actions and system lines, as the SDK read them. */
  messages: DecryptedMessage[]
  /** `messages` folded for display (`foldMessages`): actions applied to their messages, oldest first. */
  timeline: MessageView[]
  /**
   * Positions of the room the server withholds (`after` < seq < `before`; a room's positions are
   * gapless), found by the pages loaded or by the stream, oldest first; empty when none.
   */
  gaps: HistoryGap[]
  /** True while the first page, an older page or a refresh loads. */
  isLoading: boolean
  /** The SDK's typed error from the last load, if it failed. */
  error: Error | null
  /** True while older positions remain on the server. */
  hasMore: boolean
  /** Loads the page before the oldest loaded position; rejects with the SDK's error. */
  loadOlder: () => Promise<void>
  /** Reloads every loaded position from the server (what the hook does itself after a migration). */
  refresh: () => Promise<void>
  /** Moves the room's read marker to `seq` (default: the newest loaded position). */
  markRead: (seq?: number) => Promise<void>
  /** Sends a message to the room (a reply with `replyTo`); it shows at once. */
  send: (text: string, options?: SendOptions) => Promise<SendReturnType>
  /** Reacts to a message (`remove`: takes the reaction back). */
  react: (id: string, emoji: string, options?: { remove?: boolean }) => Promise<PostResult>
  /** Edits one of the wallet's messages. */
  edit: (id: string, text: string) => Promise<PostResult>
  /** Recalls a message for everyone: the wallet's own, or anyone's with `recall_others`. */
  recall: (id: string) => Promise<PostResult>
  /** Pins a message (`unpin`: takes the pin off); needs `pin`. */
  pin: (id: string, options?: { unpin?: boolean }) => Promise<PostResult>
}

/** Everything about one (provider, room) pair; a new one starts when either changes. */
type Session = {
  target: string
  /** The room id, once resolved. */
  room: string | undefined
  me: string
  alive: boolean
  messages: DecryptedMessage[]
  gaps: HistoryGap[]
  /** Older pages continue before this seq; null when there are none. */
  cursor: number | null
  loaded: boolean
  /** Stream positions that arrived before the first page. */
  early: { message: DecryptedMessage; local: boolean }[]
  busy: Promise<void> | undefined
}

/**
 * @param room - a room id, or the other wallet's address for 1:1; `undefined` for none (an empty list).
 * @example
 * import { useMessages } from '@dmtp/react'
 *
 * function Room({ room }: { room: string }) {
 *   const { timeline, hasMore, loadOlder, send, react, error } = useMessages(room)
 *   return (
 *     <>
 *       {hasMore && <button onClick={() => loadOlder()}>Older</button>}
 *       {timeline.map((m) =>
 *         m.type === 'system' ? <p key={m.id}>{m.text}</p> : (
 *           <p key={m.id}>
 *             {m.recalled ? '(recalled)' : (m.text ?? `(${m.status})`)} {m.edited && '(edited)'}
 *             {m.reactions.map((r) => `${r.emoji} ${r.count}`)}
 *             <button onClick={() => react(m.id, '👍')}>👍</button>
 *           </p>
 *         ),
 *       )}
 *       <button onClick={() => send('gm')}>Send gm</button>
 *       {error && <p>{error.message}</p>}
 *     </>
 *   )
 * }
 */
export function useMessages(room: string | undefined, { pageSize = 50 }: UseMessagesParameters = {}): UseMessagesReturnType {
  const store = useDMTPStore('useMessages')
  const { isConnectDMTP, address } = useSyncExternalStore(store.subscribe, store.getStatus, store.getStatus)
  const [messages, setMessages] = useState<DecryptedMessage[]>([])
  const [gaps, setGaps] = useState<HistoryGap[]>([])
  const [roomId, setRoomId] = useState<string | null>(null)
  const [isLoading, setIsLoading] = useState(false)
  const [error, setError] = useState<Error | null>(null)
  const [hasMore, setHasMore] = useState(false)
  const current = useRef<Session | undefined>(undefined)
  const setters = useMemo(() => ({ setMessages, setGaps, setIsLoading, setError, setHasMore }), [])

  useEffect(() => {
    setMessages([])
    setGaps([])
    setRoomId(null)
    setHasMore(false)
    setError(null)
    setIsLoading(false)
    if (!isConnectDMTP || !address || !room) {
      current.current = undefined
      return
    }
    const session: Session = {
      target: room,
      room: undefined,
      me: address,
      alive: true,
      messages: [],
      gaps: [],
      cursor: null,
      loaded: false,
      early: [],
      busy: undefined,
    }
    current.current = session
    const view = viewOf(session, setters)

    const off = store.on((event) => {
      if (event.type === 'message' || event.type === 'sent') {
        const message = event.message
        const local = event.type === 'sent'
        if (!session.loaded) session.early.push({ message, local })
        else if (message.room === session.room) {
          // The peer writes end-to-end: it has set up, so what we relayed to it was just migrated.
          const peerSetUp = message.e2ee && !sameAddress(message.sender, session.me) && session.messages.some((m) => isRelayed(m))
          view.add([message], local)
          if (peerSetUp) view.run(() => reload(store, session, pageSize, view)).catch(() => {})
        }
      } else if (event.type === 'gap') {
        if (event.room === session.room) view.addGaps([{ after: event.after, before: event.before }])
      } else if (event.type === 'migrated') {
        if (session.messages.some(isRelayed)) view.run(() => reload(store, session, pageSize, view)).catch(() => {})
      }
    })
    view
      .run(async () => {
        session.room = await store.roomOf(room)
        if (session.alive) setRoomId(session.room)
        await firstPage(store, session, pageSize, view)
      })
      .catch(() => {})
    return () => {
      session.alive = false
      off()
    }
  }, [store, isConnectDMTP, address, room, pageSize, setters])

  const loadOlder = useCallback(async () => {
    const session = current.current
    if (!session) return
    // Wait for the first page (or a refresh) rather than load the same page twice.
    if (session.busy) await session.busy.catch(() => {})
    if (!session.alive || session.cursor === null || !session.room) return
    const view = viewOf(session, setters)
    const room = session.room
    await view.run(async () => {
      const cursor = session.cursor
      if (cursor === null) return
      const page = await store.client.messages(room, { order: 'desc', cursor, limit: pageSize })
      view.setCursor(page.nextCursor)
      view.add(page.messages, false, true)
      view.addGaps(page.gaps)
    })
  }, [store, pageSize, setters])

  const refresh = useCallback(async () => {
    const session = current.current
    if (!session) return
    const view = viewOf(session, setters)
    await view.run(() => reload(store, session, pageSize, view))
  }, [store, pageSize, setters])

  const markRead = useCallback(
    async (seq?: number) => {
      const session = current.current
      const newest = seq ?? session?.messages.at(-1)?.seq
      if (!session?.room || newest === undefined) return
      await store.markRead(session.room, newest)
    },
    [store],
  )

  const roomOf = useCallback(async () => {
    const session = current.current
    if (!session) throw new DMTPNotConnectedError()
    while (session.room === undefined && session.busy) await session.busy.catch(() => {})
    return session.room ?? store.roomOf(session.target)
  }, [store])
  const send = useCallback(
    async (text: string, options: SendOptions = {}) => store.send(text, await roomOf(), options),
    [store, roomOf],
  )
  const act = useCallback(async (id: string, action: MessageAction) => store.act(await roomOf(), id, action), [store, roomOf])
  const react = useCallback(
    (id: string, emoji: string, { remove = false }: { remove?: boolean } = {}) =>
      act(id, { type: remove ? 'unreact' : 'react', emoji }),
    [act],
  )
  const edit = useCallback((id: string, text: string) => act(id, { type: 'edit', text }), [act])
  const recall = useCallback((id: string) => act(id, { type: 'recall' }), [act])
  const pin = useCallback(
    (id: string, { unpin = false }: { unpin?: boolean } = {}) => act(id, { type: unpin ? 'unpin' : 'pin' }),
    [act],
  )

  const timeline = useMemo(() => (address ? foldMessages(messages, { me: address }) : []), [messages, address])
  return {
    room: roomId,
    messages,
    timeline,
    gaps,
    isLoading,
    error,
    hasMore,
    loadOlder,
    refresh,
    markRead,
    send,
    react,
    edit,
    recall,
    pin,
  }
}

/** A 1:1 message relayed through the server's key (pattern β), not yet made end-to-end. */
const isRelayed = (message: DecryptedMessage) =>
  message.receiver !== null && (!message.e2ee || message.status === 'awaiting_migration')

type Setters = {
  setMessages: (messages: DecryptedMessage[]) => void
  setGaps: (gaps: HistoryGap[]) => void
  setIsLoading: (loading: boolean) => void
  setError: (error: Error | null) => void
  setHasMore: (hasMore: boolean) => void
}

type View = ReturnType<typeof viewOf>

/** Session updates that reach React only while the session is the current one. */
function viewOf(session: Session, setters: Setters) {
  return {
    /**
     * Merges positions. Outside `older` pages, only what continues the loaded range is taken: a
     * stream replaying history must not fill in pages the user has not asked for.
     */
    add(messages: DecryptedMessage[], local: boolean, older = false) {
      if (!session.alive) return
      const oldest = session.messages[0]?.seq
      const known = new Set(session.messages.map((m) => m.id))
      const taken =
        older || session.cursor === null || oldest === undefined
          ? messages
          : messages.filter((m) => known.has(m.id) || m.seq >= oldest)
      const next = mergeMessages(session.messages, taken, { local })
      if (next === session.messages) return
      session.messages = next
      setters.setMessages(next)
    },
    /** Adds gaps found (each once, oldest first); `replace`: these are all there are now. */
    addGaps(found: HistoryGap[], replace = false) {
      if (!session.alive || (found.length === 0 && !replace)) return
      const byRange = new Map((replace ? [] : session.gaps).map((gap) => [`${gap.after}:${gap.before}`, gap]))
      for (const gap of found) byRange.set(`${gap.after}:${gap.before}`, gap)
      session.gaps = [...byRange.values()].sort((a, b) => a.after - b.after)
      setters.setGaps(session.gaps)
    },
    setCursor(cursor: number | null) {
      if (!session.alive) return
      session.cursor = cursor
      setters.setHasMore(cursor !== null)
    },
    /** Runs one load at a time, with `isLoading` and `error`; rethrows. */
    async run(load: () => Promise<void>) {
      while (session.busy) await session.busy.catch(() => {})
      const busy = (async () => {
        if (session.alive) setters.setIsLoading(true)
        try {
          await load()
          if (session.alive) setters.setError(null)
        } catch (error) {
          if (session.alive) setters.setError(toError(error))
          throw error
        } finally {
          session.busy = undefined
          if (session.alive) setters.setIsLoading(false)
        }
      })()
      session.busy = busy
      return busy
    },
  }
}

/** The newest page, then what the stream delivered meanwhile. */
async function firstPage(store: DmtpStore, session: Session, pageSize: number, view: View): Promise<void> {
  const room = session.room as string
  const page = await store.client.messages(room, { order: 'desc', limit: pageSize })
  if (!session.alive) return
  session.loaded = true
  view.setCursor(page.nextCursor)
  view.add(page.messages, false)
  view.addGaps(page.gaps)
  for (const { message, local } of session.early.splice(0)) if (message.room === room) view.add([message], local)
}

/** Fetches every loaded position again (newest first), so replaced ones update in place. */
async function reload(store: DmtpStore, session: Session, pageSize: number, view: View): Promise<void> {
  session.room ??= await store.roomOf(session.target)
  const oldest = session.messages[0]?.seq
  if (!session.loaded || oldest === undefined) return firstPage(store, session, pageSize, view)
  const fetched: DecryptedMessage[] = []
  const gaps: HistoryGap[] = []
  let cursor: number | undefined
  for (;;) {
    const page = await store.client.messages(session.room, { order: 'desc', cursor, limit: 500 })
    fetched.push(...page.messages)
    gaps.push(...page.gaps)
    if (page.nextCursor === null || page.nextCursor <= oldest) break
    cursor = page.nextCursor
  }
  view.add(
    fetched.filter((m) => m.seq >= oldest),
    false,
    true,
  )
  view.addGaps(
    gaps.filter((gap) => gap.before > oldest),
    true,
  )
}
