/**
 * A message history written straight into a server's database, for benchmarks of what happens
 * after ingestion (the sync), where sending a million messages through the API would only measure
 * ingestion again. Rows are what the message path stores: envelope-shaped records (~700 bytes of
 * canonical DAG-JSON with random base64url fields, as a short text message seals to) under their
 * real CIDs, a `messages` row and a `cids` row each, gapless room seqs, one stream position each and
 * the room counters; rooms are 1:1 rooms with their two `room_members` rows. User rows are left
 * out: no sync reads them.
 *
 * Rows go in through a connection of its own to the server's SQLite file, with a 1 GiB page cache
 * and 100k rows per transaction. Random ids and CIDs land all over their indexes, and each commit
 * writes every index page it touched: through the server's connection (2 MB cache, 10k rows per
 * transaction) a million messages took ~100 s on the 2-vCPU VM, this way ~65 s. The server's
 * connection and settings are untouched, and the measured sync runs on them.
 */
import { randomBytes } from 'node:crypto'
import { cidOfBlock, P2P_SUITE, type PairEnvelope, toBlock } from '@dmtp/protocol'
import type { AppContext } from '@dmtp/server'
import Database from 'better-sqlite3'
import { getAddress } from 'viem'

type Room = { id: string; members: [string, string]; keys: [string, string]; count: number; lastPos: number }

const ROWS_PER_TRANSACTION = 100_000
// Generated in small draws that die young: larger ones cost more in garbage collection than they save.
const ROWS_PER_DRAW = 2_000
const CACHE_KIB = 1 << 20
// Random bytes drawn per message: room, direction and ciphertext length (4), id (16), nonce (12),
// signature (64), ciphertext (80–170: a text of ~60–150 characters, its encoding and the 16-byte tag).
const CIPHERTEXT_MIN = 80
const CIPHERTEXT_SPREAD = 91
const BYTES_PER_MESSAGE = 4 + 16 + 12 + 64 + CIPHERTEXT_MIN + CIPHERTEXT_SPREAD

export class History {
  private readonly insertMessage
  private readonly insertCid
  private readonly updateRoom
  private readonly updatePos
  private pos: number

  private constructor(
    private readonly ctx: AppContext,
    private readonly sqlite: Database.Database,
    private readonly rooms: Room[],
  ) {
    this.insertMessage = sqlite.prepare(
      `insert into messages (id, room_id, seq, pos, kind, type, sender, receiver, timestamp, cid, envelope, e2ee, received_at)
       values (?, ?, ?, ?, 'envelope', 'message', ?, ?, ?, ?, ?, 1, ?)`,
    )
    this.insertCid = sqlite.prepare(
      `insert into cids (cid, kind, room_id, address, created_at) values (?, 'message', ?, null, ?)`,
    )
    this.updateRoom = sqlite.prepare('update rooms set seq = ?, last_pos = ? where id = ?')
    this.updatePos = sqlite.prepare("update counters set value = ? where name = 'pos'")
    this.pos = (sqlite.prepare("select value from counters where name = 'pos'").get() as { value: number }).value
  }

  /** Opens `roomCount` 1:1 rooms between distinct wallets. */
  static open(ctx: AppContext, roomCount: number): History {
    if (ctx.config.db.provider !== 'sqlite') throw new Error('the history is written to SQLite only')
    const sqlite = new Database(ctx.config.db.path)
    sqlite.pragma('synchronous = NORMAL')
    sqlite.pragma('busy_timeout = 5000')
    // As on the server's connection: its checkpointer thread folds the WAL into the file.
    sqlite.pragma('wal_autocheckpoint = 0')
    sqlite.pragma(`cache_size = -${CACHE_KIB}`)
    const rooms = Array.from({ length: roomCount }, (): Room => {
      const members = [randomAddress(), randomAddress()].sort() as [string, string]
      return { id: randomBytes(16).toString('base64url'), members, keys: [randomCid(), randomCid()], count: 0, lastPos: 0 }
    })
    const insertRoom = sqlite.prepare(
      `insert into rooms (id, type, description, announce, direct_key, seq, member_count, log_index, last_pos, created_at)
       values (?, 'p2p', '', 0, ?, 0, 2, 0, 0, ?)`,
    )
    const insertMember = sqlite.prepare(
      `insert into room_members (room_id, address, status, role, joined_seq, joined_pos, banned, read_seq)
       values (?, ?, 'member', 'member', 0, 0, 0, 0)`,
    )
    const now = new Date().toISOString()
    sqlite.transaction(() => {
      for (const room of rooms) {
        insertRoom.run(room.id, room.members.join(':'), now)
        for (const member of room.members) insertMember.run(room.id, member)
      }
    })()
    return new History(ctx, sqlite, rooms)
  }

  /** Stores `count` new messages in random rooms; their CIDs wait for the next sync. */
  append(count: number): void {
    for (let start = 0; start < count; start += ROWS_PER_TRANSACTION) {
      const now = new Date().toISOString()
      const rows = Math.min(ROWS_PER_TRANSACTION, count - start)
      this.sqlite.transaction(() => {
        for (let done = 0; done < rows; done += ROWS_PER_DRAW) {
          const batch = this.generate(Math.min(ROWS_PER_DRAW, rows - done), now)
          for (const { room, envelope: e, cid, text } of batch) {
            room.lastPos = ++this.pos
            this.insertMessage.run(e.id, e.room, ++room.count, room.lastPos, e.sender, e.receiver, e.timestamp, cid, text, now)
            this.insertCid.run(cid, e.room, now)
          }
        }
        for (const room of this.rooms) this.updateRoom.run(room.count, room.lastPos, room.id)
        this.updatePos.run(this.pos)
      })()
    }
  }

  private generate(count: number, now: string): { room: Room; envelope: PairEnvelope; cid: string; text: string }[] {
    const pool = randomBytes(count * BYTES_PER_MESSAGE)
    const batch = []
    for (let i = 0; i < count; i++) {
      let at = i * BYTES_PER_MESSAGE
      const take = (bytes: number) => {
        at += bytes
        return pool.toString('base64url', at - bytes, at)
      }
      const room = this.rooms[pool.readUInt16LE(at) % this.rooms.length] as Room
      const fromA = (pool[at + 2] as number) < 128
      const ciphertextBytes = CIPHERTEXT_MIN + ((pool[at + 3] as number) % CIPHERTEXT_SPREAD)
      at += 4
      const envelope: PairEnvelope = {
        v: 1,
        suite: P2P_SUITE,
        id: take(16),
        room: room.id,
        sender: room.members[fromA ? 0 : 1],
        receiver: room.members[fromA ? 1 : 0],
        timestamp: now,
        senderKey: room.keys[fromA ? 0 : 1],
        receiverKey: room.keys[fromA ? 1 : 0],
        nonce: take(12),
        signature: take(64),
        messages: take(ciphertextBytes),
      }
      const { cid, text } = toBlock(envelope, this.ctx.crypto.sha256)
      batch.push({ room, envelope, cid, text })
    }
    return batch
  }

  close(): void {
    this.sqlite.close()
  }
}

function randomAddress(): string {
  return getAddress(`0x${randomBytes(20).toString('hex')}`)
}

/** The CID of a key bundle that is not stored: envelopes name their keys, no sync reads them. */
function randomCid(): string {
  return cidOfBlock(randomBytes(64))
}
