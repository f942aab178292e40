import type { Db } from '../../db/database.js'

const messageColumns = ['messages.cid', 'messages.seq', 'messages.e2ee', 'messages.received_at', 'messages.envelope'] as const

export function listRoomMessages(
  db: Db,
  { roomId, cursor, limit, order }: { roomId: string; cursor: number | undefined; limit: number; order: 'asc' | 'desc' },
) {
  let query = db.selectFrom('messages').select(messageColumns).where('room_id', '=', roomId)
  if (cursor !== undefined) query = query.where('seq', order === 'asc' ? '>' : '<', cursor)
  return query.orderBy('seq', order).limit(limit).execute()
}

export function listInbox(db: Db, { address, after, limit }: { address: string; after: number; limit: number }) {
  return db
    .selectFrom('inbox')
    .innerJoin('messages', 'messages.id', 'inbox.message_id')
    .select(['inbox.seq as cursor', ...messageColumns])
    .where('inbox.address', '=', address)
    .where('inbox.seq', '>', after)
    .orderBy('inbox.seq', 'asc')
    .limit(limit)
    .execute()
}

export function findInboxState(db: Db, address: string) {
  return db.selectFrom('users').select(['inbox_seq', 'acked_seq']).where('address', '=', address).executeTakeFirst()
}

export function findMessagesByIds(db: Db, ids: string[]) {
  return db
    .selectFrom('messages')
    .select(['id', 'room_id', 'sender', 'cid', 'seq', 'e2ee', 'received_at'])
    .where('id', 'in', ids)
    .execute()
}
