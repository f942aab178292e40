/** Queries of invite links: one by id, a room's newest, and whether a CID is an entry of a room's log. */
import type { Selectable } from 'kysely'
import type { Db } from '../../db/database.js'
import type { RoomLinksTable } from '../../db/schema/room-links.js'

export type RoomLinkRow = Selectable<RoomLinksTable>

export class RoomLinkReader {
  constructor(readonly db: Db) {}

  findLink(id: string): Promise<RoomLinkRow | undefined> {
    return this.db.selectFrom('room_links').selectAll().where('id', '=', id).executeTakeFirst()
  }

  /** The room's links, newest first. */
  listLinks(roomId: string, limit: number): Promise<RoomLinkRow[]> {
    return this.db
      .selectFrom('room_links')
      .selectAll()
      .where('room_id', '=', roomId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute()
  }

  /** True when `cid` is an entry of the room's membership log. */
  async isLogEntry(roomId: string, cid: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('messages')
      .select('id')
      .where('cid', '=', cid)
      .where('room_id', '=', roomId)
      .where('kind', '=', 'log')
      .executeTakeFirst()
    return row !== undefined
  }
}
