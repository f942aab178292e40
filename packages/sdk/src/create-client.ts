/**
 * `createClient`: the base client with every action bound as a method (room actions under
 * `client.rooms`). The actions remain plain, tree-shakable functions for apps that import only
 * what they use.
 */
import { answerJoinRequest } from './actions/answer-join-request.js'
import { type CheckReceiptsParameters, checkReceipts } from './actions/check-receipts.js'
import { conversations } from './actions/conversations.js'
import { type CreateInviteLinkParameters, createInviteLink } from './actions/create-invite-link.js'
import { type CreateRoomParameters, createRoom } from './actions/create-room.js'
import { type DefineRoleParameters, defineRole } from './actions/define-role.js'
import { deleteRoom } from './actions/delete-room.js'
import { edit } from './actions/edit.js'
import { type GetInboxParameters, getInbox } from './actions/get-inbox.js'
import { getInviteLinks } from './actions/get-invite-links.js'
import { type GetKeyBundleParameters, getKeyBundle } from './actions/get-key-bundle.js'
import { type GetMembersParameters, getMembers } from './actions/get-members.js'
import { type GetMessagesParameters, getMessages } from './actions/get-messages.js'
import { getRoom } from './actions/get-room.js'
import { getRoomKeys } from './actions/get-room-keys.js'
import { getRoomLog } from './actions/get-room-log.js'
import { getRooms } from './actions/get-rooms.js'
import { type InviteParameters, invite } from './actions/invite.js'
import { joinByLink } from './actions/join-by-link.js'
import { joinRoom } from './actions/join-room.js'
import { leaveRoom } from './actions/leave-room.js'
import { markRead } from './actions/mark-read.js'
import { type MigrateParameters, migrate } from './actions/migrate.js'
import { type ModerateParameters, moderate } from './actions/moderate.js'
import { type OnForkParameters, onFork } from './actions/on-fork.js'
import { openDirect } from './actions/open-direct.js'
import { pin } from './actions/pin.js'
import { react } from './actions/react.js'
import { recall } from './actions/recall.js'
import { type RecoverParameters, recover } from './actions/recover.js'
import { repinChain } from './actions/repin-chain.js'
import { revokeInviteLink } from './actions/revoke-invite-link.js'
import { rotateRoomKey } from './actions/rotate-room-key.js'
import { type SearchRoomsParameters, searchRooms } from './actions/search-rooms.js'
import { type SendParameters, send } from './actions/send.js'
import { setEncryption } from './actions/set-encryption.js'
import { setRole } from './actions/set-role.js'
import { type SetupParameters, setup } from './actions/setup.js'
import { signIn } from './actions/sign-in.js'
import { signOut } from './actions/sign-out.js'
import { type StreamParameters, stream } from './actions/stream.js'
import { type UpdateRoomParameters, updateRoom } from './actions/update-room.js'
import { type VerifyParameters, verify } from './actions/verify.js'
import { type CreateClientParameters, createClientBase, type DmtpClientBase } from './client.js'

/** `0x…` is meant as an address (a mistyped one is refused as such); anything else as a room id. */
const ADDRESS = /^0x/

/** A wallet address (1:1, the room opened on first contact) or a room id. */
const target = (to: string) => (ADDRESS.test(to) ? { peer: to } : { room: to })

type Moderation = Omit<ModerateParameters, 'room' | 'action' | 'members'>

export type DmtpClient = DmtpClientBase & {
  signIn(): ReturnType<typeof signIn>
  signOut(): ReturnType<typeof signOut>
  setup(parameters?: SetupParameters): ReturnType<typeof setup>
  whois(address: string): ReturnType<typeof getKeyBundle>
  /** Sends to a wallet address (1:1) or a room id. */
  send(to: string, text: string, options?: Omit<SendParameters, 'to' | 'room' | 'text'>): ReturnType<typeof send>
  react(room: string, id: string, emoji: string, options?: { remove?: boolean }): ReturnType<typeof react>
  edit(room: string, id: string, text: string): ReturnType<typeof edit>
  recall(room: string, id: string): ReturnType<typeof recall>
  pin(room: string, id: string, options?: { unpin?: boolean }): ReturnType<typeof pin>
  /** The 1:1 room with a wallet (its id). */
  openDirect(peer: string): ReturnType<typeof openDirect>
  migrate(parameters?: MigrateParameters): ReturnType<typeof migrate>
  conversations(): ReturnType<typeof conversations>
  /** History of a room id, or of the 1:1 room with a wallet address. */
  messages(roomOrPeer: string, options?: Omit<GetMessagesParameters, 'room' | 'peer'>): ReturnType<typeof getMessages>
  inbox(parameters?: GetInboxParameters): ReturnType<typeof getInbox>
  markRead(roomOrPeer: string, seq: number): ReturnType<typeof markRead>
  stream(parameters?: StreamParameters): ReturnType<typeof stream>
  verify(parameters?: VerifyParameters): ReturnType<typeof verify>
  /** Holds the history to the server's receipts of this wallet's sends. */
  checkReceipts(parameters?: CheckReceiptsParameters): ReturnType<typeof checkReceipts>
  recover(parameters: RecoverParameters): ReturnType<typeof recover>
  /** Trusts the chain the server names now (after a confirmed move of its registry). */
  repinChain(): ReturnType<typeof repinChain>
  /** Listens for rooms found forked (the server shows members different logs); returns the function that stops. */
  onFork(listener: OnForkParameters): ReturnType<typeof onFork>
  rooms: {
    create(parameters: CreateRoomParameters): ReturnType<typeof createRoom>
    list(): ReturnType<typeof getRooms>
    search(parameters?: SearchRoomsParameters): ReturnType<typeof searchRooms>
    get(room: string): ReturnType<typeof getRoom>
    join(room: string): ReturnType<typeof joinRoom>
    leave(room: string): ReturnType<typeof leaveRoom>
    delete(room: string): ReturnType<typeof deleteRoom>
    members(room: string, options?: Omit<GetMembersParameters, 'room'>): ReturnType<typeof getMembers>
    log(room: string): ReturnType<typeof getRoomLog>
    update(room: string, changes: Omit<UpdateRoomParameters, 'room'>): ReturnType<typeof updateRoom>
    invite(room: string, members: string[], options?: Pick<InviteParameters, 'expiresInMs'>): ReturnType<typeof invite>
    approve(room: string, members: string[]): ReturnType<typeof answerJoinRequest>
    reject(room: string, members: string[]): ReturnType<typeof answerJoinRequest>
    /** Private rooms: a signed invite link (`dmtp-invite:…`), registered with the server. */
    createLink(room: string, options?: Omit<CreateInviteLinkParameters, 'room'>): ReturnType<typeof createInviteLink>
    /** Joins (or asks to join) the room an invite link's text names. */
    joinByLink(link: string): ReturnType<typeof joinByLink>
    links(room: string): ReturnType<typeof getInviteLinks>
    revokeLink(room: string, id: string): ReturnType<typeof revokeInviteLink>
    setRole(room: string, members: string[], role: string): ReturnType<typeof setRole>
    defineRole(room: string, role: string, permissions: DefineRoleParameters['permissions']): ReturnType<typeof defineRole>
    moderate(parameters: ModerateParameters): ReturnType<typeof moderate>
    kick(room: string, members: string[] | 'all'): ReturnType<typeof moderate>
    ban(room: string, members: string[] | 'all', options?: Moderation): ReturnType<typeof moderate>
    unban(room: string, members: string[]): ReturnType<typeof moderate>
    mute(room: string, members: string[] | 'all', options?: Moderation): ReturnType<typeof moderate>
    unmute(room: string, members: string[] | 'all'): ReturnType<typeof moderate>
    /** Private rooms: E2EE on (`plain`: members may still choose plaintext per message) or off. */
    setEncryption(room: string, e2ee: boolean, options?: { plain?: boolean }): ReturnType<typeof setEncryption>
    rotateKey(room: string): ReturnType<typeof rotateRoomKey>
    keys(room: string): ReturnType<typeof getRoomKeys>
  }
}

/**
 * Creates a DMTP client for a server and a wallet.
 * @example
 * import { createClient } from '@dmtp/sdk'
 * import { privateKeyToAccount } from 'viem/accounts'
 * const client = createClient({ server: 'http://localhost:8787', wallet: privateKeyToAccount(key) })
 * await client.setup()
 * await client.send('0xB0b…', 'gm')
 * const { room } = await client.rooms.create({ type: 'public', name: 'builders' })
 * await client.send(room.id, 'welcome')
 * for await (const event of client.stream()) if (event.type === 'message') console.log(event.message.text)
 */
export function createClient(parameters: CreateClientParameters): DmtpClient {
  const base = createClientBase(parameters)
  const who = (members: string[] | 'all') => (members === 'all' ? { all: true } : { members })
  return Object.assign(base, {
    signIn: () => signIn(base),
    signOut: () => signOut(base),
    setup: (options?: SetupParameters) => setup(base, options),
    whois: (address: string) => getKeyBundle(base, { address } satisfies GetKeyBundleParameters),
    send: (to: string, text: string, options: Omit<SendParameters, 'to' | 'room' | 'text'> = {}) =>
      send(base, { ...(ADDRESS.test(to) ? { to } : { room: to }), text, ...options }),
    react: (room: string, id: string, emoji: string, options: { remove?: boolean } = {}) =>
      react(base, { room, id, emoji, ...options }),
    edit: (room: string, id: string, text: string) => edit(base, { room, id, text }),
    recall: (room: string, id: string) => recall(base, { room, id }),
    pin: (room: string, id: string, options: { unpin?: boolean } = {}) => pin(base, { room, id, ...options }),
    openDirect: (peer: string) => openDirect(base, { peer }),
    migrate: (options?: MigrateParameters) => migrate(base, options),
    conversations: () => conversations(base),
    messages: (roomOrPeer: string, options: Omit<GetMessagesParameters, 'room' | 'peer'> = {}) =>
      getMessages(base, { ...target(roomOrPeer), ...options }),
    inbox: (options?: GetInboxParameters) => getInbox(base, options),
    markRead: (roomOrPeer: string, seq: number) => markRead(base, { ...target(roomOrPeer), seq }),
    stream: (options?: StreamParameters) => stream(base, options),
    verify: (options?: VerifyParameters) => verify(base, options),
    checkReceipts: (options?: CheckReceiptsParameters) => checkReceipts(base, options),
    recover: (options: RecoverParameters) => recover(base, options),
    repinChain: () => repinChain(base),
    onFork: (listener: OnForkParameters) => onFork(base, listener),
    rooms: {
      create: (options: CreateRoomParameters) => createRoom(base, options),
      list: () => getRooms(base),
      search: (options?: SearchRoomsParameters) => searchRooms(base, options),
      get: (room: string) => getRoom(base, { room }),
      join: (room: string) => joinRoom(base, { room }),
      leave: (room: string) => leaveRoom(base, { room }),
      delete: (room: string) => deleteRoom(base, { room }),
      members: (room: string, options: Omit<GetMembersParameters, 'room'> = {}) => getMembers(base, { room, ...options }),
      log: (room: string) => getRoomLog(base, { room }),
      update: (room: string, changes: Omit<UpdateRoomParameters, 'room'>) => updateRoom(base, { room, ...changes }),
      invite: (room: string, members: string[], options?: Pick<InviteParameters, 'expiresInMs'>) =>
        invite(base, { room, members, ...options }),
      approve: (room: string, members: string[]) => answerJoinRequest(base, { room, members, approve: true }),
      reject: (room: string, members: string[]) => answerJoinRequest(base, { room, members, approve: false }),
      createLink: (room: string, options: Omit<CreateInviteLinkParameters, 'room'> = {}) =>
        createInviteLink(base, { room, ...options }),
      joinByLink: (link: string) => joinByLink(base, { link }),
      links: (room: string) => getInviteLinks(base, { room }),
      revokeLink: (room: string, id: string) => revokeInviteLink(base, { room, id }),
      setRole: (room: string, members: string[], role: string) => setRole(base, { room, members, role }),
      defineRole: (room: string, role: string, permissions: DefineRoleParameters['permissions']) =>
        defineRole(base, { room, role, permissions }),
      moderate: (options: ModerateParameters) => moderate(base, options),
      kick: (room: string, members: string[] | 'all') => moderate(base, { room, action: 'kick', ...who(members) }),
      ban: (room: string, members: string[] | 'all', options: Moderation = {}) =>
        moderate(base, { room, action: 'ban', ...who(members), ...options }),
      unban: (room: string, members: string[]) => moderate(base, { room, action: 'unban', members }),
      mute: (room: string, members: string[] | 'all', options: Moderation = {}) =>
        moderate(base, { room, action: 'mute', ...who(members), ...options }),
      unmute: (room: string, members: string[] | 'all') => moderate(base, { room, action: 'unmute', ...who(members) }),
      setEncryption: (room: string, e2ee: boolean, options: { plain?: boolean } = {}) =>
        setEncryption(base, { room, e2ee, ...options }),
      rotateKey: (room: string) => rotateRoomKey(base, { room }),
      keys: (room: string) => getRoomKeys(base, { room }),
    },
  })
}
