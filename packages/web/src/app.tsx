/**
 * The app's top level: pick a wallet (injected EIP-1193 provider or the built-in local wallet),
 * then set up or unlock DMTP keys, then the rooms. The DMTP server is the one that served this page.
 */
import { DMTPProvider, localStorageStorage, useConnectDMTP } from '@dmtp/react'
import { useMemo, useState } from 'react'
import { localWallet } from './lib/local-wallet.js'
import { injectedProvider, readWalletChoice, saveWalletChoice, type WalletChoice } from './lib/wallet-choice.js'
import { ConnectScreen } from './routes/connect-screen.js'
import { RoomsScreen } from './routes/rooms-screen.js'
import { SetupScreen } from './routes/setup-screen.js'

const server = (import.meta.env.VITE_DMTP_SERVER as string | undefined) ?? window.location.origin
const storage = localStorageStorage('dmtp:web:')

export function App() {
  const [choice, setChoice] = useState<WalletChoice | null>(readWalletChoice)
  const wallet = useMemo(
    () => (choice?.kind === 'local' ? localWallet() : choice?.kind === 'injected' ? injectedProvider() : undefined),
    [choice],
  )
  const choose = (next: WalletChoice | null) => {
    saveWalletChoice(next)
    setChoice(next)
  }
  if (!choice || !wallet) return <ConnectScreen server={server} onChoose={choose} />
  return (
    <DMTPProvider key={choice.kind} server={server} wallet={wallet} storage={storage}>
      <Session choice={choice} onDisconnect={() => choose(null)} />
    </DMTPProvider>
  )
}

function Session({ choice, onDisconnect }: { choice: WalletChoice; onDisconnect: () => void }) {
  const connection = useConnectDMTP()
  if (!connection.isConnectDMTP) return <SetupScreen choice={choice} connection={connection} onDisconnect={onDisconnect} />
  return <RoomsScreen choice={choice} address={connection.address ?? ''} onDisconnect={onDisconnect} />
}
