/**
 * The stream's per-frame checks (`check` then `accept`), against a budget of 5 % of what one
 * delivered message costs end to end (`p2p_acked_msgs_per_s`: about 280 µs of machine time each
 * on the 2-core reference host, so the checks must stay well under 14 µs per frame).
 */
import type { RoomRecord } from '@dmtp/protocol'
import { bench, describe } from 'vitest'
import { StreamGuard } from './_stream-guard.js'

const ROOMS = 50
const FRAMES = 100_000

const records: RoomRecord[] = Array.from({ length: FRAMES }, (_, i) => {
  const room = `room${i % ROOMS}`
  return {
    cid: `bafy${i.toString(36).padStart(12, '0')}`,
    seq: Math.floor(i / ROOMS) + 1,
    e2ee: true,
    receivedAt: new Date(1_800_000_000_000 + i).toISOString(),
    envelope: { id: `id${i}`, room, timestamp: new Date(1_800_000_000_000 + i).toISOString() },
  } as unknown as RoomRecord
})

describe('StreamGuard', () => {
  bench(`check + accept, ${FRAMES} frames over ${ROOMS} rooms`, () => {
    const guard = new StreamGuard(0, () => undefined)
    for (let i = 0; i < FRAMES; i++) {
      const record = records[i] as RoomRecord
      if (guard.check(i + 1, record) !== 'next') throw new Error(`frame ${i} was doubted`)
      guard.accept(record, i + 1)
    }
  })
})
