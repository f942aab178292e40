/**
 * `useRoomEncryption(room)`: a private room's end-to-end encryption as this member holds it
 * (`client.rooms.keys`): on or off, whether members may still send plaintext, the current key
 * epoch, why a new key is due, and the epochs whose key this device was given (a delivery it
 * refused is in `problems`). Refetched when a log entry of the room arrives (E2EE turned on or
 * off, a join or removal making a new key due), after the app's own changes, and on the next
 * message while a new key is due (that message comes under it).
 *
 * It carries the two actions: `setEncryption` (needs `e2ee_on` / `e2ee_off`) and `rotateKey`.
 * For a room that is not private, or before the wallet is a member, `encryption` is null.
 */
import { ApiError, type GetRoomKeysReturnType, type RotateRoomKeyReturnType, type SetEncryptionReturnType } from '@dmtp/sdk'
import { useCallback } from 'react'
import { useDMTPStore } from '../_context.js'
import { useResource } from '../_resource.js'

export type UseRoomEncryptionReturnType = {
  /** The room's encryption state (`e2ee`, `plain`, `epoch`, `keyId`, `due`); null for rooms without room keys. */
  encryption: GetRoomKeysReturnType['encryption'] | null
  /** The epochs whose key this device holds, oldest first. */
  epochs: number[]
  /** Deliveries this device refused, and why (a wrap made at a log head it is not shown, not by a member…). */
  problems: string[]
  isLoading: boolean
  /** The SDK's typed error from the last load. */
  error: Error | null
  refresh: () => Promise<void>
  /** Turns E2EE on (with `plain`, members may still send plaintext, marked so) or off. */
  setEncryption: (e2ee: boolean, options?: { plain?: boolean }) => Promise<SetEncryptionReturnType>
  /** Makes a new key epoch now, wrapped to every member the signed log shows. */
  rotateKey: () => Promise<RotateRoomKeyReturnType>
}

type EncryptionState = { room: string | null } & Pick<UseRoomEncryptionReturnType, 'encryption' | 'epochs' | 'problems'>

const INITIAL: EncryptionState = { room: null, encryption: null, epochs: [], problems: [] }
/**
 * What the server answers for a room without keys for this wallet: not private, not a member (yet),
 * or a private room it hides from the invited and from those who asked to join.
 */
const NO_KEYS = new Set(['invalid_request', 'not_member', 'room_not_found'])

/**
 * @param room - a room id; undefined for none.
 * @example
 * import { useRoomEncryption } from '@dmtp/react'
 *
 * function KeyState({ room }: { room: string }) {
 *   const { encryption, rotateKey } = useRoomEncryption(room)
 *   if (!encryption?.e2ee) return <p>Not end-to-end encrypted</p>
 *   return <p>🔒 key epoch {encryption.epoch} <button onClick={() => rotateKey()}>New key</button></p>
 * }
 */
export function useRoomEncryption(room: string | undefined): UseRoomEncryptionReturnType {
  const store = useDMTPStore('useRoomEncryption')
  const { data, isLoading, error, refresh } = useResource<EncryptionState>({
    store,
    key: room,
    initial: INITIAL,
    async load() {
      const id = room as string
      if ((store.client.state.roomInfo.get(id)?.type ?? 'private') !== 'private') return { ...INITIAL, room: id }
      try {
        return { room: id, ...(await store.client.rooms.keys(id)) }
      } catch (error) {
        if (error instanceof ApiError && NO_KEYS.has(error.code)) return { ...INITIAL, room: id }
        throw error
      }
    },
    onEvent(event, session) {
      const { encryption } = session.get()
      if (event.type === 'room' && event.room === room) session.refresh().catch(() => {})
      if ((event.type === 'message' || event.type === 'sent') && event.message.room === room) {
        if (event.message.type === 'system' || encryption?.due) session.refresh().catch(() => {})
      }
    },
  })
  const change = useCallback(
    async <T>(run: (id: string) => Promise<T>): Promise<T> => {
      const id = room as string
      const result = await store.changeRoom(id, 'updated', () => run(id))
      await refresh()
      return result
    },
    [store, room, refresh],
  )
  const setEncryption = useCallback(
    (e2ee: boolean, options: { plain?: boolean } = {}) => change((id) => store.client.rooms.setEncryption(id, e2ee, options)),
    [change, store],
  )
  const rotateKey = useCallback(() => change((id) => store.client.rooms.rotateKey(id)), [change, store])
  return {
    encryption: data.encryption,
    epochs: data.epochs,
    problems: data.problems,
    isLoading,
    error,
    refresh,
    setEncryption,
    rotateKey,
  }
}
