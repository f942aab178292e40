/**
 * Joining a big public room, and whether the room stays as fast once it is big. Every joiner
 * posts its own signed join event through the real API (`POST /v1/rooms/:room/events`, its own
 * session), `concurrency` in flight as many clients at once would; the events are signed before
 * the clock starts, so the time is the server's: checks (actor, key, time, Ed25519 signature),
 * the rules in commit order, the log entry and the member row.
 *
 * The same two reads in a room of 2, in the big room once it has `FIRST_PAGE` members (a full first
 * page: a page of 2 members against one of 100 would mostly compare page sizes) and once all
 * have joined: the first page of its members (`GET /v1/rooms/:room/members?limit=100`) and a message
 * sent over HTTP until it is durably stored (`POST /v1/messages`), one request at a time, medians
 * (after a few unmeasured ones). The join time is the sum of the two joining spells around the
 * reads in between.
 */
import { type Member, sealMessages } from '../_group-members.js'
import type { Api } from '../_group-rooms.js'
import { percentile, round } from '../_stats.js'

const WARMUP = 5
const FIRST_PAGE = 100

export type RoomReads = {
  members: number
  /** `GET /v1/rooms/:room/members?limit=100`: median and p90 over the samples. */
  membersPageMs: number
  membersPageP90Ms: number
  /** `POST /v1/messages` until answered: median and p90. */
  sendMs: number
  sendP90Ms: number
}

export type JoinResult = {
  joins: number
  concurrency: number
  ms: number
  joinsPerSecond: number
  /** The reads at 2 members, at a full first page, at all the joiners. */
  small: RoomReads
  page: RoomReads
  big: RoomReads
}

export async function joinScale(
  api: Api,
  {
    owner,
    smallOwner,
    smallJoiner,
    joiners,
    concurrency,
    pageSamples,
    sendSamples,
  }: {
    owner: Member
    smallOwner: Member
    smallJoiner: Member
    joiners: Member[]
    concurrency: number
    pageSamples: number
    sendSamples: number
  },
): Promise<JoinResult> {
  const samples = { pageSamples, sendSamples }
  const smallRoom = await api.createRoom(smallOwner, 'Two of us')
  await api.joinAll(smallRoom, [smallJoiner], 1)
  const small = await roomReads(api, smallOwner, smallRoom, samples)

  const room = await api.createRoom(owner, 'Everyone')
  const first = FIRST_PAGE - 1
  let ms = await api.joinAll(room, joiners.slice(0, first), concurrency)
  const page = await roomReads(api, owner, room, samples)
  ms += await api.joinAll(room, joiners.slice(first), concurrency)
  const big = await roomReads(api, owner, room, samples)
  if (big.members !== joiners.length + 1) throw new Error(`the room has ${big.members} members, not ${joiners.length + 1}`)
  return {
    joins: joiners.length,
    concurrency,
    ms: round(ms, 0),
    joinsPerSecond: round(joiners.length / (ms / 1000), 0),
    small,
    page,
    big,
  }
}

async function roomReads(
  api: Api,
  member: Member,
  room: string,
  { pageSamples, sendSamples }: { pageSamples: number; sendSamples: number },
): Promise<RoomReads> {
  const page = await timed(pageSamples, async () => {
    const { members } = await api.call<{ members: unknown[] }>('GET', `/v1/rooms/${room}/members?limit=100`, member.token)
    if (members.length === 0) throw new Error('no members listed')
  })
  const { logHead } = await api.room(member, room)
  const messages = await sealMessages(member, room, logHead, WARMUP + sendSamples, 'timed')
  let next = 0
  const send = await timed(sendSamples, async () => {
    await api.send(member, messages[next++] as (typeof messages)[number])
  })
  const { memberCount } = await api.room(member, room)
  return {
    members: memberCount,
    membersPageMs: round(percentile(page, 50), 2),
    membersPageP90Ms: round(percentile(page, 90), 2),
    sendMs: round(percentile(send, 50), 2),
    sendP90Ms: round(percentile(send, 90), 2),
  }
}

/** Runs `fn` WARMUP times unmeasured, then `samples` times one after another: sorted durations (ms). */
async function timed(samples: number, fn: () => Promise<void>): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await fn()
  const durations: number[] = []
  for (let i = 0; i < samples; i++) {
    const started = performance.now()
    await fn()
    durations.push(performance.now() - started)
  }
  return durations.sort((a, b) => a - b)
}
