/**
 * Queries of pattern β: relayed messages, their handoffs and Processing Chats (no writes:
 * `transactor.ts` and `processing-chats.ts` add those). Plain `fn(db, args)` helpers, and
 * `MigrationReader`, which runs them (and the service's other queries) on one connection or
 * transaction.
 */
import type { Db } from '../../db/database.js'

/**
 * Relayed messages to `receiver` with no handoff to its current key yet, in room and seq order,
 * after `after` (keyset paging: each batch starts where the last one ended instead of skipping
 * everything already handed off again).
 */
export function listUnhandedRelayed(
  db: Db,
  {
    receiver,
    receiverKey,
    limit,
    after,
  }: { receiver: string; receiverKey: string; limit: number; after?: { room: string; seq: number } | undefined },
) {
  let query = db
    .selectFrom('messages')
    .leftJoin('handoffs', 'handoffs.message_id', 'messages.id')
    .select(['messages.id as id', 'messages.envelope as envelope', 'messages.room_id as room', 'messages.seq as seq'])
    .where('messages.receiver', '=', receiver)
    .where('messages.e2ee', '=', 0)
    .where((eb) => eb.or([eb('handoffs.message_id', 'is', null), eb('handoffs.receiver_key', '!=', receiverKey)]))
  if (after) {
    // A row-value comparison: the index seeks to it (an equivalent OR of two terms is a scan).
    query = query.where((eb) => eb(eb.refTuple('messages.room_id', 'messages.seq'), '>', eb.tuple(after.room, after.seq)))
  }
  return query.orderBy('messages.room_id').orderBy('messages.seq').limit(limit).execute()
}

export async function countRelayed(db: Db, receiver: string): Promise<number> {
  const row = await db
    .selectFrom('messages')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('receiver', '=', receiver)
    .where('e2ee', '=', 0)
    .executeTakeFirstOrThrow()
  return Number(row.count)
}

/**
 * The rooms holding relayed messages to `receiver`, one index seek per room (each upload asks; a
 * DISTINCT would read every relayed message left, making a long queue quadratic).
 */
export async function listRelayedRooms(db: Db, receiver: string): Promise<string[]> {
  const rooms: string[] = []
  for (;;) {
    const last = rooms.at(-1)
    let query = db.selectFrom('messages').select('room_id').where('receiver', '=', receiver).where('e2ee', '=', 0)
    if (last !== undefined) query = query.where('room_id', '>', last)
    const next = await query.orderBy('room_id').limit(1).executeTakeFirst()
    if (!next) return rooms
    rooms.push(next.room_id)
  }
}

/** A position in the handoff listing, oldest first: after this handoff. */
export type HandoffPosition = { createdAt: string; messageId: string }

export function listHandoffs(
  db: Db,
  {
    receiver,
    receiverKey,
    limit,
    after,
  }: { receiver: string; receiverKey: string; limit: number; after?: HandoffPosition | undefined },
) {
  let query = db
    .selectFrom('handoffs')
    .select(['handoff', 'created_at', 'message_id'])
    .where('receiver', '=', receiver)
    .where('receiver_key', '=', receiverKey)
  if (after) {
    query = query.where((eb) => eb(eb.refTuple('created_at', 'message_id'), '>', eb.tuple(after.createdAt, after.messageId)))
  }
  return query.orderBy('created_at').orderBy('message_id').limit(limit).execute()
}

/** Receivers whose relayed messages wait. */
export function listProcessingReceivers(db: Db) {
  return db.selectFrom('processing_chats').select('address').distinct().execute()
}

export class MigrationReader {
  constructor(readonly db: Db) {}

  listUnhandedRelayed(args: Parameters<typeof listUnhandedRelayed>[1]) {
    return listUnhandedRelayed(this.db, args)
  }

  countRelayed(receiver: string): Promise<number> {
    return countRelayed(this.db, receiver)
  }

  listRelayedRooms(receiver: string): Promise<string[]> {
    return listRelayedRooms(this.db, receiver)
  }

  listHandoffs(args: Parameters<typeof listHandoffs>[1]) {
    return listHandoffs(this.db, args)
  }

  listProcessingReceivers() {
    return listProcessingReceivers(this.db)
  }

  /** The messages of `ids` (any suite) with what a migrated envelope must match. */
  listMessages(ids: string[]) {
    return this.db
      .selectFrom('messages')
      .select(['id', 'room_id', 'sender', 'receiver', 'timestamp', 'cid', 'e2ee'])
      .where('id', 'in', ids)
      .execute()
  }

  /** The CID message `id` holds now (throws when there is no such message). */
  findMessageCid(id: string) {
    return this.db.selectFrom('messages').select('cid').where('id', '=', id).executeTakeFirstOrThrow()
  }
}
