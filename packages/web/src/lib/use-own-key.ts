/** This wallet's own key fingerprint, for the peer to compare with what they see. */
import { useDMTPClient } from '@dmtp/react'
import { useEffect, useState } from 'react'

export function useOwnKey(address: string): string | null {
  const client = useDMTPClient()
  const [fingerprint, setFingerprint] = useState<string | null>(null)
  useEffect(() => {
    let live = true
    client
      .whois(address)
      .then((result) => live && result.registered && result.verified && setFingerprint(result.fingerprint))
      .catch(() => {})
    return () => {
      live = false
    }
  }, [client, address])
  return fingerprint
}
