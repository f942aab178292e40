/** Writes of invite links: registering, revoking, and counting a use under the link's limit. */
import type { Insertable } from 'kysely'
import type { RoomLinksTable } from '../../db/schema/room-links.js'
import { RoomLinkReader } from './reader.js'

export class RoomLinkTransactor extends RoomLinkReader {
  /** Inserts a link unless one with its id exists; true when it was inserted. */
  async insertLink(row: Insertable<RoomLinksTable>): Promise<boolean> {
    const inserted = await this.db
      .insertInto('room_links')
      .values(row)
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .execute()
    return inserted.length > 0
  }

  async revoke(id: string, at: string): Promise<void> {
    await this.db.updateTable('room_links').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).execute()
  }

  /**
   * Counts one use, only while the link is live and under its limit: one conditional update, so
   * of two last uses at once exactly one is counted. True when it was.
   */
  async countUse(id: string, now: string): Promise<boolean> {
    const counted = await this.db
      .updateTable('room_links')
      .set((eb) => ({ uses: eb('uses', '+', 1) }))
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .where((eb) => eb.or([eb('max_uses', 'is', null), eb('uses', '<', eb.ref('max_uses'))]))
      .returning('uses')
      .execute()
    return counted.length > 0
  }
}
