/**
 * A small router on the History API: `/` (the room list), `/room/<id>`, `/groups/new`,
 * `/groups/find`, and `/chat/<address>` (the 1:1 room with a wallet: links from before rooms,
 * redirected to its `/room/<id>`). The server answers every non-API path with index.html, so a
 * reload lands on the same screen.
 */
import { useCallback, useEffect, useState } from 'react'

export type Route =
  | { name: 'home' }
  | { name: 'room'; id: string }
  | { name: 'chat'; peer: string }
  | { name: 'new-group' }
  | { name: 'find-rooms' }

export type Navigate = (path: string, options?: { replace?: boolean }) => void

function parse(pathname: string): Route {
  const room = /^\/room\/([A-Za-z0-9_-]{22})\/?$/.exec(pathname)
  if (room?.[1]) return { name: 'room', id: room[1] }
  const chat = /^\/chat\/(0x[0-9a-fA-F]{40})\/?$/.exec(pathname)
  if (chat?.[1]) return { name: 'chat', peer: chat[1] }
  if (/^\/groups\/new\/?$/.test(pathname)) return { name: 'new-group' }
  if (/^\/groups\/find\/?$/.test(pathname)) return { name: 'find-rooms' }
  return { name: 'home' }
}

export function useRoute(): [Route, Navigate] {
  const [route, setRoute] = useState(() => parse(window.location.pathname))
  useEffect(() => {
    const onPop = () => setRoute(parse(window.location.pathname))
    window.addEventListener('popstate', onPop)
    return () => window.removeEventListener('popstate', onPop)
  }, [])
  const navigate = useCallback<Navigate>((path, { replace = false } = {}) => {
    if (path !== window.location.pathname) window.history[replace ? 'replaceState' : 'pushState'](null, '', path)
    setRoute(parse(path))
  }, [])
  return [route, navigate]
}
