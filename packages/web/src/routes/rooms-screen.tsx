/**
 * The signed-in app: the room list beside the open screen (one or the other on a phone): a
 * room, creating a group, or finding public rooms.
 */
import { useDMTPClient } from '@dmtp/react'
import { lazy, Suspense, useEffect, useState } from 'react'
import { ConnectionBanner } from '../components/connection-banner.js'
import { NewChatForm } from '../components/new-chat-form.js'
import { RoomList } from '../components/room-list.js'
import { RoomView } from '../components/room-view.js'
import { friendlyError } from '../lib/errors.js'
import { shortAddress } from '../lib/format.js'
import { forgetLocalWallet } from '../lib/local-wallet.js'
import { useOwnKey } from '../lib/use-own-key.js'
import { type Navigate, useRoute } from '../lib/use-route.js'
import type { WalletChoice } from '../lib/wallet-choice.js'

// Screens most visits never open load on demand, so the first paint stays small.
const CreateGroupForm = lazy(() => import('../components/create-group-form.js').then((m) => ({ default: m.CreateGroupForm })))
const FindRooms = lazy(() => import('../components/find-rooms.js').then((m) => ({ default: m.FindRooms })))

type Props = { choice: WalletChoice; address: string; onDisconnect: () => void }

export function RoomsScreen({ choice, address, onDisconnect }: Props) {
  const client = useDMTPClient()
  const [route, navigate] = useRoute()
  const fingerprint = useOwnKey(address)
  const signOut = async () => {
    await client.signOut().catch(() => {})
    onDisconnect()
  }
  const open = (room: string) => navigate(`/room/${room}`)
  const home = () => navigate('/')
  return (
    <div className={route.name === 'home' ? 'layout' : 'layout has-chat'}>
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
        <div className="group-actions">
          <button type="button" className="small" onClick={() => navigate('/groups/new')}>
            New group
          </button>
          <button type="button" className="small" onClick={() => navigate('/groups/find')}>
            Find public rooms
          </button>
        </div>
        <h2 className="sr-only">Conversations</h2>
        <RoomList active={route.name === 'room' ? route.id : undefined} me={address} onOpen={open} />
      </nav>
      <main className="chat-pane">
        {route.name === 'room' ? (
          <RoomView key={route.id} id={route.id} me={address} onBack={home} />
        ) : route.name === 'chat' ? (
          <OpenDirect key={route.peer} peer={route.peer} navigate={navigate} />
        ) : route.name === 'home' ? (
          <div className="empty-chat">
            <p>Pick a conversation, start one with any wallet address, or create or find a group.</p>
            <p className="hint">
              1:1 messages are end-to-end encrypted in this browser. Groups are not yet: their messages are signed, and the server
              can read them.
            </p>
          </div>
        ) : (
          <Suspense fallback={<p className="history-edge">Loading…</p>}>
            {route.name === 'new-group' ? (
              <CreateGroupForm onCreated={open} onBack={home} />
            ) : (
              <FindRooms onOpen={open} onBack={home} />
            )}
          </Suspense>
        )}
      </main>
    </div>
  )
}

/** `/chat/<address>`: opens the 1:1 room with the wallet (created on first contact) and moves to `/room/<id>`. */
function OpenDirect({ peer, navigate }: { peer: string; navigate: Navigate }) {
  const client = useDMTPClient()
  const [error, setError] = useState<unknown>(null)
  useEffect(() => {
    let live = true
    client
      .openDirect(peer)
      .then((room) => live && navigate(`/room/${room}`, { replace: true }))
      .catch((e) => live && setError(e))
    return () => {
      live = false
    }
  }, [client, peer, navigate])
  return (
    <p className={error ? 'error' : 'history-edge'} role={error ? 'alert' : 'status'}>
      {error ? friendlyError(error).title : `Opening the conversation with ${shortAddress(peer)}…`}
    </p>
  )
}
