/**
 * What a group message costs the database, against a room of 2: a message is stored once (one
 * `messages` row, its CID, the room's counters) whatever the room's size, so the bytes added per
 * message should not grow with the members. Each room's sender sends over its own stream (the
 * other members offline: delivery writes nothing), pipelined, in alternating rounds (small room,
 * big room, small, big…) so both grow the same tables at the same sizes; around each round the
 * server's process folds the WAL into the file and measures the pages in use, and `dbstat` splits
 * the growth by table and index.
 */
import type { Child } from '../_child.js'
import { type Member, sealMessages } from '../_group-members.js'
import { pipeline } from '../_group-rooms.js'
import { MemberStream } from '../_member-streams.js'
import { round } from '../_stats.js'

type DbBytes = { bytes: number; pageSize: number; tables: Record<string, number> }

export type StorageRoom = { room: string; sender: Member; logHead: string; members: number }

export type StorageSide = {
  members: number
  messages: number
  /** Bytes in use added, per message. */
  bytesPerMessage: number
  /** The same, by table or index (those that grew). */
  tables: Record<string, number>
}

export type StorageResult = { small: StorageSide; big: StorageSide; ratio: number; rounds: number; pageSize: number }

export async function storageGrowth(
  server: Child<unknown>,
  wsUrl: string,
  {
    small,
    big,
    messages,
    rounds,
    window,
  }: { small: StorageRoom; big: StorageRoom; messages: number; rounds: number; window: number },
): Promise<StorageResult> {
  const sides = [small, big].map((room) => ({ room, messages: 0, bytes: 0, tables: {} as Record<string, number> }))
  const streams = await Promise.all(sides.map((side) => MemberStream.open(wsUrl, side.room.sender)))
  let pageSize = 0
  try {
    const perRound = Math.ceil(messages / rounds)
    for (let pass = 0; pass < rounds; pass++) {
      for (const [i, side] of sides.entries()) {
        const { room, sender, logHead } = side.room
        const batch = await sealMessages(sender, room, logHead, perRound, `stored ${pass}`)
        const before = await server.request<DbBytes>({ dbBytes: true })
        const sent = await pipeline(streams[i] as MemberStream, batch, window)
        if (sent.acked !== batch.length) throw new Error(`${sent.acked} of ${batch.length} stored: ${sent.errors.join('; ')}`)
        const after = await server.request<DbBytes>({ dbBytes: true })
        pageSize = after.pageSize
        side.messages += batch.length
        side.bytes += after.bytes - before.bytes
        for (const [name, bytes] of Object.entries(after.tables)) {
          side.tables[name] = (side.tables[name] ?? 0) + bytes - (before.tables[name] ?? 0)
        }
      }
    }
  } finally {
    await Promise.all(streams.map((stream) => stream.close()))
  }
  const [smallSide, bigSide] = sides.map(
    (side): StorageSide => ({
      members: side.room.members,
      messages: side.messages,
      bytesPerMessage: round(side.bytes / side.messages, 1),
      tables: Object.fromEntries(
        Object.entries(side.tables)
          .filter(([, bytes]) => bytes !== 0)
          .sort((a, b) => b[1] - a[1])
          .map(([name, bytes]) => [name, round(bytes / side.messages, 1)]),
      ),
    }),
  ) as [StorageSide, StorageSide]
  return {
    small: smallSide,
    big: bigSide,
    ratio: round(bigSide.bytesPerMessage / smallSide.bytesPerMessage, 3),
    rounds,
    pageSize,
  }
}
