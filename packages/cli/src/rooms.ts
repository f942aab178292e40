/**
 * What the commands share about rooms: how a room's type is labelled for people (a public room
 * is never end-to-end encrypted, and says so), the room a message command acts in (`--room ID`,
 * or `--with ADDRESS` for the 1:1 room), and room names for lines of the inbox.
 */
import type { Room } from '@dmtp/protocol'
import type { DmtpClient, RoomSummary } from '@dmtp/sdk'
import { type Command, Option } from 'commander'
import { usageError } from './errors.js'
import { parseAddress, parseId } from './parsers.js'

const TYPE_LABELS: Record<Room['type'], string> = {
  p2p: '1:1, end-to-end encrypted',
  public: 'public room, not end-to-end encrypted',
  private: 'private group, not end-to-end encrypted',
  limited: 'limited room, not end-to-end encrypted',
}

/**
 * A room's type for people, with whether it is end-to-end encrypted (a private group is when
 * `e2ee`: its messages, or this one message).
 * @example
 * roomTypeLabel('public') // 'public room, not end-to-end encrypted'
 * roomTypeLabel('private', true) // 'private group, end-to-end encrypted'
 */
export function roomTypeLabel(type: Room['type'], e2ee = false): string {
  return type === 'private' && e2ee ? 'private group, end-to-end encrypted' : TYPE_LABELS[type]
}

export type RoomTarget = { room?: string | undefined; with?: string | undefined }

/**
 * Adds `--room <id>` and `--with <address>` (the 1:1 room), for commands that act on a message.
 * @example
 * withRoomTarget(new Command('react')).requiredOption('--id <id>', 'the message')
 */
export function withRoomTarget(command: Command): Command {
  return command
    .addOption(new Option('--room <id>', 'the room of the message').argParser(parseId).conflicts('with'))
    .option('--with <address>', 'or the 1:1 room with this wallet', parseAddress)
}

/**
 * The room id named by `--room`, or the 1:1 room with `--with` (opened on first contact).
 * @throws {CommanderError} a usage error unless exactly one of them is given.
 * @example
 * const room = await targetRoom(client, options)
 */
export async function targetRoom(client: DmtpClient, { room, with: peer }: RoomTarget): Promise<string> {
  if ((room === undefined) === (peer === undefined)) throw usageError('pass --room <id> or --with <address> (one of them)')
  return room ?? client.openDirect(peer as string)
}

export type RoomName = { type: Room['type']; name: string | null }

/**
 * Looks up the rooms of the wallet by id, for lines that name their room: the list (`rooms`, or
 * fetched on first use) is fetched again when a room it does not hold shows up (one joined since).
 * @example
 * const names = roomDirectory(client)
 * const room = await names.get(message.room) // { type: 'public', name: 'builders' }
 */
export function roomDirectory(client: DmtpClient, rooms?: RoomSummary[]): { get(room: string): Promise<RoomName | undefined> } {
  const index = (list: RoomSummary[]) => new Map(list.map(({ room }) => [room.id, { type: room.type, name: room.name }]))
  let known = rooms && index(rooms)
  const load = async () => {
    known = index(await client.rooms.list())
    return known
  }
  const missed = new Set<string>()
  return {
    async get(room) {
      const found = (known ?? (await load())).get(room)
      if (found || missed.has(room)) return found
      missed.add(room)
      return (await load()).get(room)
    },
  }
}
