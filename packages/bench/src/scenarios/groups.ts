/**
 * Groups (part 1): the room as the unit. One server process (`group-server-process.ts`) for the
 * four measurements, in this order:
 *
 * 1. a public room of `members` members, all online (one stream each): fan-out latency, one
 *    send at a time (`group-fanout.ts`);
 * 2. the same room: deliveries per second with sends pipelined;
 * 3. database bytes per message in that room (members offline) against a room of 2
 *    (`group-storage.ts`);
 * 4. `joins` members joining a new public room, and the members page and a send before and
 *    after (`group-join.ts`).
 *
 * Members are made without wallet signatures and written into the server's database
 * (`_group-members.ts`); the rooms, joins and messages go through the real API.
 */
import { type Child, startChild } from '../_child.js'
import { type Member, makeMembers, type ServerIdentity, sealMessages } from '../_group-members.js'
import { Api } from '../_group-rooms.js'
import { closeStreams, openStreams } from '../_member-streams.js'
import { round } from '../_stats.js'
import { type FanoutLatency, type FanoutThroughput, fanoutLatency, fanoutThroughput } from './group-fanout.js'
import { type JoinResult, joinScale } from './group-join.js'
import { type StorageResult, storageGrowth } from './group-storage.js'

const JOIN_CONCURRENCY = 64

export type GroupOptions = {
  /** Members of the fan-out room, all online. */
  members: number
  /** Sends of the latency test, and those before it that are not counted. */
  latencySends: number
  warmupSends: number
  /** Messages of the throughput test, and how many are in flight. */
  pipelined: number
  window: number
  /** Messages stored in each room of the storage test, and in how many alternating rounds. */
  storedMessages: number
  storageRounds: number
  joins: number
}

export type GroupResult = {
  latency: FanoutLatency
  throughput: FanoutThroughput
  storage: StorageResult
  join: JoinResult
  setup: { members: number; seedSeconds: number; fanoutJoinSeconds: number; connectSeconds: number; seconds: number }
}

export async function groupBenchmarks(options: GroupOptions): Promise<GroupResult> {
  const started = performance.now()
  const server: Child<{ url: string } & ServerIdentity> = await startChild('./group-server-process.js')
  try {
    const api = new Api(server.info.url)
    const wsUrl = `${server.info.url.replace(/^http/, 'ws')}/v1/stream`
    const t0 = performance.now()
    // Fan-out room, the room of 2 for storage, the join test's owner, its room of 2, its joiners.
    const { members: everyone, rows } = makeMembers(options.members + 2 + 3 + options.joins, server.info)
    await server.request({ seed: rows })
    const seedSeconds = seconds(performance.now() - t0)
    const take = (count: number) => everyone.splice(0, count)
    const fan = take(options.members)
    const [storageOwner, storageJoiner] = take(2) as [Member, Member]
    const [joinOwner, smallOwner, smallJoiner] = take(3) as [Member, Member, Member]
    const joiners = take(options.joins)

    const owner = fan[0] as Member
    const room = await api.createRoom(owner, 'Fan-out')
    const fanoutJoinMs = await api.joinAll(room, fan.slice(1), JOIN_CONCURRENCY)
    const { logHead, memberCount } = await api.room(owner, room)
    if (memberCount !== fan.length) throw new Error(`the fan-out room has ${memberCount} members, not ${fan.length}`)

    const t1 = performance.now()
    // The sender's stream first: it sends, and receives its own messages as every member does.
    const streams = await openStreams(wsUrl, fan)
    const connectSeconds = seconds(performance.now() - t1)
    let latency: FanoutLatency
    let throughput: FanoutThroughput
    try {
      const probes = await sealMessages(owner, room, logHead, options.warmupSends + options.latencySends, 'probe')
      latency = await fanoutLatency(server, streams, probes, { warmup: options.warmupSends })
      const burst = await sealMessages(owner, room, logHead, options.pipelined, 'burst')
      throughput = await fanoutThroughput(server, streams, burst, { window: options.window, after: latency.lastSeq })
    } finally {
      await closeStreams(streams)
    }

    const small = await api.createRoom(storageOwner, 'Pair')
    await api.joinAll(small, [storageJoiner], 1)
    const storage = await storageGrowth(server, wsUrl, {
      small: { room: small, sender: storageOwner, logHead: (await api.room(storageOwner, small)).logHead, members: 2 },
      big: { room, sender: owner, logHead, members: fan.length },
      messages: options.storedMessages,
      rounds: options.storageRounds,
      window: options.window,
    })

    const join = await joinScale(api, {
      owner: joinOwner,
      smallOwner,
      smallJoiner,
      joiners,
      concurrency: JOIN_CONCURRENCY,
      pageSamples: 20,
      sendSamples: 50,
    })
    return {
      latency,
      throughput,
      storage,
      join,
      setup: {
        members: rows.length,
        seedSeconds,
        fanoutJoinSeconds: seconds(fanoutJoinMs),
        connectSeconds,
        seconds: seconds(performance.now() - started),
      },
    }
  } finally {
    await server.stop()
  }
}

const seconds = (ms: number) => round(ms / 1000, 1)
