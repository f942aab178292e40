/**
 * A peer's key bundle as this browser verified it (`client.whois`): registered or not, its
 * fingerprint, and how it stands against the chain. Re-checked every few seconds while the peer
 * has not set up, so the chat can tell when messages start being end-to-end encrypted.
 */
import { useDMTPClient } from '@dmtp/react'
import type { GetKeyBundleReturnType } from '@dmtp/sdk'
import { useEffect, useState } from 'react'

const RECHECK_MS = 4_000

export type PeerKey = { result: GetKeyBundleReturnType | null; error: unknown }

/** @param peer - the wallet; undefined while it is not known (nothing is checked). */
export function usePeerKey(peer: string | undefined): PeerKey {
  const client = useDMTPClient()
  const [state, setState] = useState<PeerKey>({ result: null, error: null })
  useEffect(() => {
    setState({ result: null, error: null })
    if (!peer) return
    let live = true
    let timer: ReturnType<typeof setTimeout> | undefined
    const check = async () => {
      try {
        const result = await client.whois(peer)
        if (!live) return
        setState({ result, error: null })
        if (!result.registered) timer = setTimeout(check, RECHECK_MS)
      } catch (error) {
        if (!live) return
        setState((s) => ({ ...s, error }))
        timer = setTimeout(check, RECHECK_MS)
      }
    }
    void check()
    return () => {
      live = false
      clearTimeout(timer)
    }
  }, [client, peer])
  return state
}
