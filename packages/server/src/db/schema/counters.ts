/** Server-wide counters; `pos` is the newest stream position (allocated inside the writing transaction). */
export interface CountersTable {
  name: string
  value: number
}
export const tableName = 'counters'
export type PartialDB = { [tableName]: CountersTable }
