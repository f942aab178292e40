/** The signed-in app: conversations beside the open chat (one or the other on a phone). */
import { useDMTPClient } from '@dmtp/react'
import { ChatView } from '../components/chat-view.js'
import { ConnectionBanner } from '../components/connection-banner.js'
import { ConversationList } from '../components/conversation-list.js'
import { NewChatForm } from '../components/new-chat-form.js'
import { shortAddress } from '../lib/format.js'
import { forgetLocalWallet } from '../lib/local-wallet.js'
import { useOwnKey } from '../lib/use-own-key.js'
import { useRoute } from '../lib/use-route.js'
import type { WalletChoice } from '../lib/wallet-choice.js'

type Props = { choice: WalletChoice; address: string; onDisconnect: () => void }

export function ChatScreen({ choice, address, onDisconnect }: Props) {
  const client = useDMTPClient()
  const [route, navigate] = useRoute()
  const peer = route.name === 'chat' ? route.peer : undefined
  const fingerprint = useOwnKey(address)
  const signOut = async () => {
    await client.signOut().catch(() => {})
    onDisconnect()
  }
  return (
    <div className={peer ? 'layout has-chat' : 'layout'}>
      <a href="#message-input" className="skip-link">
        Skip to message box
      </a>
      <header className="topbar">
        <h1>DMTP</h1>
        <div className="me">
          {choice.kind === 'local' ? (
            <span className="badge warn" title="The private key is stored in this browser's localStorage">
              Local test wallet<span className="wide-only">, key stored in this browser</span>
              <span className="narrow-only"> (key in browser)</span>
            </span>
          ) : (
            <span className="badge">Browser wallet</span>
          )}
          <details className="account">
            <summary title={address} data-testid="my-address">
              {shortAddress(address)}
            </summary>
            <div className="account-panel">
              <p>
                Your address: <code>{address}</code>
              </p>
              <p>
                Your key fingerprint: <code>{fingerprint ?? '…'}</code>
              </p>
              <button type="button" onClick={() => void signOut()}>
                Sign out
              </button>
              {choice.kind === 'local' && (
                <button
                  type="button"
                  className="danger"
                  onClick={() => {
                    if (!window.confirm('Delete the local key? Messages to this address can no longer be read here.')) return
                    forgetLocalWallet()
                    void signOut()
                  }}
                >
                  Delete local key
                </button>
              )}
            </div>
          </details>
        </div>
      </header>
      <ConnectionBanner />
      <nav className="sidebar" aria-label="Conversations">
        <NewChatForm me={address} onStart={(to) => navigate(`/chat/${to}`)} />
        <h2 className="sr-only">Conversations</h2>
        <ConversationList active={peer} me={address} onOpen={(to) => navigate(`/chat/${to}`)} />
      </nav>
      <main className="chat-pane">
        {peer ? (
          <ChatView key={peer.toLowerCase()} peer={peer} me={address} onBack={() => navigate('/')} />
        ) : (
          <div className="empty-chat">
            <p>Pick a conversation, or start one with any wallet address.</p>
            <p className="hint">Messages are encrypted in this browser; the server only relays what it cannot read.</p>
          </div>
        )}
      </main>
    </div>
  )
}
