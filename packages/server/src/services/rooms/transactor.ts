/**
 * Writes to rooms, members and roles. Used inside a transaction (the writer's, mostly), so each
 * change commits with the log entry or message it belongs to.
 */
import type { Insertable, Updateable } from 'kysely'
import type { RoomMembersTable } from '../../db/schema/room-members.js'
import type { RoomsTable } from '../../db/schema/rooms.js'
import { type MemberRow, RoomReader } from './reader.js'

export class RoomTransactor extends RoomReader {
  async insertRoom(row: Insertable<RoomsTable>): Promise<void> {
    await this.db.insertInto('rooms').values(row).execute()
  }

  /** Inserts a 1:1 room unless its pair has one already; true when it was inserted. */
  async insertDirectRoom(row: Insertable<RoomsTable>): Promise<boolean> {
    const inserted = await this.db
      .insertInto('rooms')
      .values(row)
      .onConflict((oc) => oc.column('direct_key').doNothing())
      .returning('id')
      .execute()
    return inserted.length > 0
  }

  async updateRoom(id: string, set: Updateable<RoomsTable>): Promise<void> {
    await this.db.updateTable('rooms').set(set).where('id', '=', id).execute()
  }

  async upsertMember(row: Insertable<RoomMembersTable> & { room_id: string; address: string }): Promise<void> {
    const { room_id: _room, address: _address, ...set } = row
    await this.db
      .insertInto('room_members')
      .values(row)
      .onConflict((oc) => oc.columns(['room_id', 'address']).doUpdateSet(set))
      .execute()
  }

  /** Changes every member of `roles` (but `except`); returns the addresses changed. */
  async updateMembersWithRoles(
    roomId: string,
    { roles, except, set }: { roles: string[]; except: string; set: Updateable<RoomMembersTable> },
  ): Promise<string[]> {
    if (roles.length === 0) return []
    const rows = await this.db
      .updateTable('room_members')
      .set(set)
      .where('room_id', '=', roomId)
      .where('status', '=', 'member')
      .where('role', 'in', roles)
      .where('address', '!=', except)
      .returning('address')
      .execute()
    return rows.map((row) => row.address)
  }

  async defineRole(roomId: string, name: string, permissions: string[] | null): Promise<void> {
    if (permissions === null) {
      await this.db.deleteFrom('room_roles').where('room_id', '=', roomId).where('name', '=', name).execute()
      return
    }
    await this.db
      .insertInto('room_roles')
      .values({ room_id: roomId, name, permissions: permissions.join(' ') })
      .onConflict((oc) => oc.columns(['room_id', 'name']).doUpdateSet({ permissions: permissions.join(' ') }))
      .execute()
  }

  /** Moves a read marker forward (never back); returns the marker. */
  async markRead(roomId: string, address: string, seq: number): Promise<number> {
    await this.db
      .updateTable('room_members')
      .set({ read_seq: seq })
      .where('room_id', '=', roomId)
      .where('address', '=', address)
      .where('read_seq', '<', seq)
      .execute()
    const row = await this.db
      .selectFrom('room_members')
      .select('read_seq')
      .where('room_id', '=', roomId)
      .where('address', '=', address)
      .executeTakeFirst()
    return row?.read_seq ?? 0
  }
}

export type { MemberRow }
