/**
 * What the list and detail hooks share: one piece of server state per (provider, key), loaded
 * when connected, refetched on demand or when a stream event says it changed, with `isLoading`
 * and `error`. Loads run one at a time; refreshes asked for while one waits merge into it, so a
 * burst of stream events costs one refetch.
 * @internal
 */
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react'
import { type DMTPEvent, type DmtpStore, toError } from './_store.js'

export type ResourceSession<T> = {
  /** The newest value (also between renders). */
  get(): T
  /** Replaces the value now (a live update); when a load is in flight, one more follows it. */
  set(next: T): void
  /** Refetches (merged with a refresh already waiting). */
  refresh(): Promise<void>
  /** Runs a change through the queue, after any load in flight. */
  run(op: (previous: T) => Promise<T>): Promise<void>
  /** The connected wallet. */
  readonly me: string
}

export type ResourceParameters<T> = {
  store: DmtpStore
  /** What identifies the resource: a new session (and `initial`) when it changes. */
  key: string | undefined
  initial: T
  /** Fetches the value; `previous` is the value so far. */
  load: (previous: T, session: ResourceSession<T>) => Promise<T>
  /** Applies a provider event (the newest function passed is used). */
  onEvent?: ((event: DMTPEvent, session: ResourceSession<T>) => void) | undefined
}

export type ResourceReturnType<T> = {
  data: T
  isLoading: boolean
  error: Error | null
  refresh: () => Promise<void>
  /** The current session, for actions that change the value (undefined until connected). */
  session: () => ResourceSession<T> | undefined
}

export function useResource<T>({ store, key, initial, load, onEvent }: ResourceParameters<T>): ResourceReturnType<T> {
  const { isConnectDMTP, address } = useSyncExternalStore(store.subscribe, store.getStatus, store.getStatus)
  const [data, setData] = useState(initial)
  const [isLoading, setIsLoading] = useState(false)
  const [error, setError] = useState<Error | null>(null)
  const current = useRef<ResourceSession<T> | undefined>(undefined)
  const latest = useRef({ load, onEvent, initial })
  latest.current = { load, onEvent, initial }

  useEffect(() => {
    const { initial } = latest.current
    setData(initial)
    setError(null)
    setIsLoading(false)
    if (!isConnectDMTP || !address || key === undefined) {
      current.current = undefined
      return
    }
    let value = initial
    let alive = true
    let chain: Promise<void> = Promise.resolve()
    let inFlight = 0
    let queued: Promise<void> | undefined
    const run = (op: (previous: T) => Promise<T>): Promise<void> => {
      const next = chain.then(async () => {
        if (!alive) return
        inFlight++
        setIsLoading(true)
        try {
          const result = await op(value)
          if (!alive) return
          value = result
          setData(result)
          setError(null)
        } catch (cause) {
          if (alive) setError(toError(cause))
          throw cause
        } finally {
          inFlight--
          if (alive && inFlight === 0) setIsLoading(false)
        }
      })
      chain = next.catch(() => {})
      return next
    }
    const session: ResourceSession<T> = {
      me: address,
      get: () => value,
      set(next) {
        if (!alive || next === value) return
        value = next
        setData(next)
        if (inFlight > 0) session.refresh().catch(() => {})
      },
      refresh() {
        queued ??= run((previous) => {
          queued = undefined
          return latest.current.load(previous, session)
        })
        return queued
      },
      run,
    }
    current.current = session
    session.refresh().catch(() => {})
    const off = store.on((event) => latest.current.onEvent?.(event, session))
    return () => {
      alive = false
      off()
    }
  }, [store, isConnectDMTP, address, key])

  const refresh = useCallback(() => current.current?.refresh() ?? Promise.resolve(), [])
  const session = useCallback(() => current.current, [])
  return { data, isLoading, error, refresh, session }
}
