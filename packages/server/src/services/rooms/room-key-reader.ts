/** Queries of private-group keys: a room's epoch state, its members' current key bundles, a member's deliveries. */
import type { Db } from '../../db/database.js'

export class RoomKeyReader {
  constructor(readonly db: Db) {}

  findEpochState(roomId: string) {
    return this.db
      .selectFrom('rooms')
      .select(['type', 'e2ee', 'plain', 'epoch', 'key_id', 'epoch_at', 'epoch_messages', 'rotation_due', 'log_index', 'log_head'])
      .where('id', '=', roomId)
      .executeTakeFirst()
  }

  /** Each member of the room and the CID of its current key bundle (null: no keys). */
  async listMemberKeys(roomId: string): Promise<Map<string, string | null>> {
    const rows = await this.db
      .selectFrom('room_members as m')
      .leftJoin('key_bundles as k', (join) => join.onRef('k.address', '=', 'm.address').on('k.replaced_at', 'is', null))
      .select(['m.address', 'k.cid'])
      .where('m.room_id', '=', roomId)
      .where('m.status', '=', 'member')
      .execute()
    return new Map(rows.map((row) => [row.address, row.cid ?? null]))
  }

  listDeliveries(roomId: string, recipient: string, after: number, limit: number) {
    return this.db
      .selectFrom('room_key_deliveries')
      .select(['epoch', 'delivery'])
      .where('room_id', '=', roomId)
      .where('recipient', '=', recipient)
      .where('epoch', '>', after)
      .orderBy('epoch')
      .limit(limit)
      .execute()
  }
}
