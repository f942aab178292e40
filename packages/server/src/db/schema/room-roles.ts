/** A room's custom roles: their permissions, space-separated. */
export interface RoomRolesTable {
  room_id: string
  name: string
  permissions: string
}
export const tableName = 'room_roles'
export type PartialDB = { [tableName]: RoomRolesTable }
