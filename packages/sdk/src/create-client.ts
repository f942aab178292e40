/**
 * `createClient`: the base client with every action bound as a method. The actions remain plain,
 * tree-shakable functions for apps that import only what they use.
 */
import { conversations } from './actions/conversations.js'
import { type GetInboxParameters, getInbox } from './actions/get-inbox.js'
import { type GetKeyBundleParameters, getKeyBundle } from './actions/get-key-bundle.js'
import { type GetMessagesParameters, getMessages } from './actions/get-messages.js'
import { markRead } from './actions/mark-read.js'
import { type MigrateParameters, migrate } from './actions/migrate.js'
import { type RecoverParameters, recover } from './actions/recover.js'
import { type SendParameters, send } from './actions/send.js'
import { type SetupParameters, setup } from './actions/setup.js'
import { signIn } from './actions/sign-in.js'
import { signOut } from './actions/sign-out.js'
import { type StreamParameters, stream } from './actions/stream.js'
import { type VerifyParameters, verify } from './actions/verify.js'
import { type CreateClientParameters, createClientBase, type DmtpClientBase } from './client.js'

export type DmtpClient = DmtpClientBase & {
  signIn(): ReturnType<typeof signIn>
  signOut(): ReturnType<typeof signOut>
  setup(parameters?: SetupParameters): ReturnType<typeof setup>
  whois(address: string): ReturnType<typeof getKeyBundle>
  send(to: string, text: string, options?: Omit<SendParameters, 'to' | 'text'>): ReturnType<typeof send>
  migrate(parameters?: MigrateParameters): ReturnType<typeof migrate>
  conversations(): ReturnType<typeof conversations>
  messages(peer: string, options?: Omit<GetMessagesParameters, 'peer'>): ReturnType<typeof getMessages>
  inbox(parameters?: GetInboxParameters): ReturnType<typeof getInbox>
  markRead(peer: string, seq: number): ReturnType<typeof markRead>
  stream(parameters?: StreamParameters): ReturnType<typeof stream>
  verify(parameters?: VerifyParameters): ReturnType<typeof verify>
  recover(parameters: RecoverParameters): ReturnType<typeof recover>
}

/**
 * Creates a DMTP client for a server and a wallet.
 * @example
 * import { createClient } from '@dmtp/sdk'
 * import { privateKeyToAccount } from 'viem/accounts'
 * const client = createClient({ server: 'http://localhost:8787', wallet: privateKeyToAccount(key) })
 * await client.setup()
 * await client.send('0xB0b…', 'gm')
 * for await (const event of client.stream()) if (event.type === 'message') console.log(event.message.text)
 */
export function createClient(parameters: CreateClientParameters): DmtpClient {
  const base = createClientBase(parameters)
  return Object.assign(base, {
    signIn: () => signIn(base),
    signOut: () => signOut(base),
    setup: (options?: SetupParameters) => setup(base, options),
    whois: (address: string) => getKeyBundle(base, { address } satisfies GetKeyBundleParameters),
    send: (to: string, text: string, options: Omit<SendParameters, 'to' | 'text'> = {}) => send(base, { to, text, ...options }),
    migrate: (options?: MigrateParameters) => migrate(base, options),
    conversations: () => conversations(base),
    messages: (peer: string, options: Omit<GetMessagesParameters, 'peer'> = {}) => getMessages(base, { peer, ...options }),
    inbox: (options?: GetInboxParameters) => getInbox(base, options),
    markRead: (peer: string, seq: number) => markRead(base, { peer, seq }),
    stream: (options?: StreamParameters) => stream(base, options),
    verify: (options?: VerifyParameters) => verify(base, options),
    recover: (options: RecoverParameters) => recover(base, options),
  })
}
