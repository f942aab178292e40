/**
 * `useMessages(peer)`: the conversation with one wallet, for a chat view. The newest page first
 * (`client.messages(peer, { order: 'desc' })`), older pages on demand with `loadOlder()`, and new
 * messages live from the provider's stream, by id, without duplicates. A message that changes on
 * the server keeps its id and is replaced in place: a relayed message made end-to-end by the
 * receiver (pattern β), or the stream's echo of a message this app just sent.
 */
import type { DecryptedMessage } from '@dmtp/sdk'
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react'
import { useDMTPStore } from '../_context.js'
import { mergeMessages, peerOf, sameAddress } from '../_messages.js'
import { type DmtpStore, toError } from '../_store.js'

export type UseMessagesParameters = {
  /** Messages per page, for the first load and each `loadOlder()`. Default 50, at most 500. */
  pageSize?: number | undefined
}

export type UseMessagesReturnType = {
  /** Oldest first (render top to bottom); empty until connected and loaded. */
  messages: DecryptedMessage[]
  /** True while the first page, an older page or a refresh loads. */
  isLoading: boolean
  /** The SDK's typed error from the last load, if it failed. */
  error: Error | null
  /** True while older messages remain on the server. */
  hasMore: boolean
  /** Loads the page before the oldest loaded message; rejects with the SDK's error. */
  loadOlder: () => Promise<void>
  /** Reloads every loaded message from the server (what the hook does itself after a migration). */
  refresh: () => Promise<void>
  /** Marks the conversation read up to the newest loaded message. */
  markRead: () => Promise<void>
}

/** Everything about one (provider, peer) pair; a new one starts when either changes. */
type Session = {
  peer: string
  me: string
  alive: boolean
  messages: DecryptedMessage[]
  /** Older pages continue before this seq; null when there are none. */
  cursor: number | null
  loaded: boolean
  /** Stream messages that arrived before the first page. */
  early: { message: DecryptedMessage; local: boolean }[]
  busy: Promise<void> | undefined
}

/**
 * @param peer - the other wallet's address; `undefined` for no conversation (an empty list).
 * @example
 * import { useMessages } from '@dmtp/react'
 *
 * function Chat({ peer }: { peer: string }) {
 *   const { messages, hasMore, loadOlder, error } = useMessages(peer)
 *   return (
 *     <>
 *       {hasMore && <button onClick={() => loadOlder()}>Older</button>}
 *       {messages.map((m) => <p key={m.id}>{m.e2ee ? '🔒' : '⚠️'} {m.text ?? `(${m.status})`}</p>)}
 *       {error && <p>{error.message}</p>}
 *     </>
 *   )
 * }
 */
export function useMessages(peer: string | undefined, { pageSize = 50 }: UseMessagesParameters = {}): UseMessagesReturnType {
  const store = useDMTPStore('useMessages')
  const { isConnectDMTP, address } = useSyncExternalStore(store.subscribe, store.getStatus, store.getStatus)
  const [messages, setMessages] = useState<DecryptedMessage[]>([])
  const [isLoading, setIsLoading] = useState(false)
  const [error, setError] = useState<Error | null>(null)
  const [hasMore, setHasMore] = useState(false)
  const current = useRef<Session | undefined>(undefined)

  useEffect(() => {
    setMessages([])
    setHasMore(false)
    setError(null)
    setIsLoading(false)
    if (!isConnectDMTP || !address || !peer) {
      current.current = undefined
      return
    }
    const session: Session = {
      peer,
      me: address,
      alive: true,
      messages: [],
      cursor: null,
      loaded: false,
      early: [],
      busy: undefined,
    }
    current.current = session
    const view = viewOf(session, { setMessages, setIsLoading, setError, setHasMore })

    const off = store.on((event) => {
      if (event.type === 'message' || event.type === 'sent') {
        const message = event.message
        if (!sameAddress(peerOf(message, session.me), session.peer)) return
        const local = event.type === 'sent'
        if (!session.loaded) session.early.push({ message, local })
        else {
          // The peer writes end-to-end: it has set up, so what we relayed to it was just migrated.
          const peerSetUp = message.e2ee && sameAddress(message.sender, session.peer) && session.messages.some((m) => !m.e2ee)
          view.add([message], local)
          if (peerSetUp) view.run(() => reload(store, session, pageSize, view)).catch(() => {})
        }
      } else if (event.type === 'migrated') {
        if (session.messages.some((m) => !m.e2ee || m.status === 'awaiting_migration'))
          view.run(() => reload(store, session, pageSize, view)).catch(() => {})
      }
    })
    view.run(() => firstPage(store, session, pageSize, view)).catch(() => {})
    return () => {
      session.alive = false
      off()
    }
  }, [store, isConnectDMTP, address, peer, pageSize])

  const loadOlder = useCallback(async () => {
    const session = current.current
    if (!session) return
    // Wait for the first page (or a refresh) rather than load the same page twice.
    if (session.busy) await session.busy.catch(() => {})
    if (!session.alive || session.cursor === null) return
    const view = viewOf(session, { setMessages, setIsLoading, setError, setHasMore })
    await view.run(async () => {
      const cursor = session.cursor
      if (cursor === null) return
      const page = await store.client.messages(session.peer, { order: 'desc', cursor, limit: pageSize })
      view.setCursor(page.nextCursor)
      view.add(page.messages, false, true)
    })
  }, [store, pageSize])

  const refresh = useCallback(async () => {
    const session = current.current
    if (!session) return
    const view = viewOf(session, { setMessages, setIsLoading, setError, setHasMore })
    await view.run(() => reload(store, session, pageSize, view))
  }, [store, pageSize])

  const markRead = useCallback(async () => {
    const session = current.current
    const newest = session?.messages.at(-1)
    if (!session || !newest) return
    await store.markRead(session.peer, newest.seq)
  }, [store])

  return { messages, isLoading, error, hasMore, loadOlder, refresh, markRead }
}

type Setters = {
  setMessages: (messages: DecryptedMessage[]) => void
  setIsLoading: (loading: boolean) => void
  setError: (error: Error | null) => void
  setHasMore: (hasMore: boolean) => void
}

type View = ReturnType<typeof viewOf>

/** Session updates that reach React only while the session is the current one. */
function viewOf(session: Session, setters: Setters) {
  return {
    /**
     * Merges messages. Outside `older` pages, only what continues the loaded range is taken: a
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
  const page = await store.client.messages(session.peer, { order: 'desc', limit: pageSize })
  if (!session.alive) return
  session.loaded = true
  view.setCursor(page.nextCursor)
  view.add(page.messages, false)
  for (const { message, local } of session.early.splice(0)) view.add([message], local)
}

/** Fetches every loaded message again (newest first), so replaced ones update in place. */
async function reload(store: DmtpStore, session: Session, pageSize: number, view: View): Promise<void> {
  const oldest = session.messages[0]?.seq
  if (!session.loaded || oldest === undefined) return firstPage(store, session, pageSize, view)
  const fetched: DecryptedMessage[] = []
  let cursor: number | undefined
  for (;;) {
    const page = await store.client.messages(session.peer, { order: 'desc', cursor, limit: 500 })
    fetched.push(...page.messages)
    if (page.nextCursor === null || page.nextCursor <= oldest) break
    cursor = page.nextCursor
  }
  view.add(
    fetched.filter((m) => m.seq >= oldest),
    false,
    true,
  )
}
