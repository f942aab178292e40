/**
 * A two-route router on the History API: `/` (conversations) and `/chat/<address>`. The server
 * answers every non-API path with index.html, so a reload lands on the same conversation.
 */
import { useCallback, useEffect, useState } from 'react'

export type Route = { name: 'home' } | { name: 'chat'; peer: string }

function parse(pathname: string): Route {
  const match = /^\/chat\/(0x[0-9a-fA-F]{40})\/?$/.exec(pathname)
  return match?.[1] ? { name: 'chat', peer: match[1] } : { name: 'home' }
}

export function useRoute(): [Route, (path: string) => void] {
  const [route, setRoute] = useState(() => parse(window.location.pathname))
  useEffect(() => {
    const onPop = () => setRoute(parse(window.location.pathname))
    window.addEventListener('popstate', onPop)
    return () => window.removeEventListener('popstate', onPop)
  }, [])
  const navigate = useCallback((path: string) => {
    if (path !== window.location.pathname) window.history.pushState(null, '', path)
    setRoute(parse(path))
  }, [])
  return [route, navigate]
}
