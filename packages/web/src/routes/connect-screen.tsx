/** First screen: choose a wallet. An injected one when the browser has it; the local test wallet always. */
import { useState } from 'react'
import { localWalletAddress } from '../lib/local-wallet.js'
import { injectedProvider, type WalletChoice } from '../lib/wallet-choice.js'

export function ConnectScreen({ server, onChoose }: { server: string; onChoose: (choice: WalletChoice) => void }) {
  const [hasInjected] = useState(() => injectedProvider() !== undefined)
  const [existingLocal] = useState(localWalletAddress)
  return (
    <main className="centered">
      <section className="card" aria-labelledby="connect-title">
        <h1 id="connect-title">DMTP</h1>
        <p className="lead">Wallet-to-wallet messages that no server can read.</p>
        <h2>Connect a wallet</h2>
        <div className="stack">
          <button
            type="button"
            className="primary"
            disabled={!hasInjected}
            onClick={() => onChoose({ kind: 'injected' })}
            aria-describedby="injected-help"
          >
            Connect browser wallet
          </button>
          <p id="injected-help" className="hint">
            {hasInjected
              ? 'Uses your wallet extension (MetaMask or any EIP-1193 wallet). It will ask you to approve each step.'
              : 'No wallet extension found in this browser. Install one, or try the local test wallet below.'}
          </p>
          <button type="button" onClick={() => onChoose({ kind: 'local' })} aria-describedby="local-help">
            {existingLocal ? 'Use local test wallet' : 'Create local test wallet'}
          </button>
          <p id="local-help" className="hint warning-text">
            Local test wallet, key stored in this browser. For trying DMTP only: anyone who can use this browser profile can read
            its messages, and clearing site data loses the key.
          </p>
        </div>
        <p className="hint">
          Server: <code>{server}</code>
        </p>
      </section>
    </main>
  )
}
