/** The peer's key fingerprint and how this browser verified it, for comparing out of band. */

import { friendlyError } from '../lib/errors.js'
import type { PeerKey } from '../lib/use-peer-key.js'

const ANCHOR_TEXT = {
  anchored: 'matches the key anchored on chain',
  pending: 'newer than the key on chain; the server has not anchored it yet',
  unchecked: 'not checked against a chain (this server has none, or it is unreachable)',
} as const

export function PeerInfo({ peerKey }: { peerKey: PeerKey }) {
  const { result, error } = peerKey
  if (!result) return <p className="peer-info">{error ? friendlyError(error).title : 'Checking their keys…'}</p>
  if (!result.registered)
    return (
      <p className="peer-info warning-text" data-testid="peer-unregistered">
        Has not set up DMTP yet: messages you send are not end-to-end encrypted until they do.
      </p>
    )
  if (!result.verified)
    return (
      <p className="peer-info error-text" role="alert">
        Their keys failed verification and cannot be used: {result.problem}
      </p>
    )
  return (
    <details className="peer-info">
      <summary>
        Key verified <span className="sr-only">, fingerprint</span>
        <code className="fingerprint" data-testid="fingerprint">
          {result.fingerprint}
        </code>
      </summary>
      <p>
        Signed by their wallet and checked in this browser; {ANCHOR_TEXT[result.anchor]}. Compare this fingerprint with what they
        see under “Your key” to be sure no one is in between.
      </p>
    </details>
  )
}
