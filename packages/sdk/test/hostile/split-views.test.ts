/**
 * Split views (issue 17 item 7, docs/private-groups.md §9): a server that shows one member another
 * membership log than the others — an entry hidden from it, or an entry it verified rewritten —
 * is caught by that member's client, which marks the room forked with the evidence (`getRoom`'s
 * `fork`, `onFork`, the stream's `fork` event). A client merely behind the log reads it again and
 * does not warn.
 */
import { type LogEntry, toBlock } from '@dmtp/protocol'
import { describe, expect, test } from 'vitest'
import { createClient, memoryStorage, privateKeyWallet, type RoomFork } from '../../src/index.js'
import { collect, DIALECTS, newClient, type TestServer } from '../_util.js'
import { serverBehindProxy } from './_behind-proxy.js'
import { attack } from './attack.js'

type Client = ReturnType<typeof newClient>

const addressOf = async (client: Client) => (await client.getWallet()).address

/** A private room of alice with `others` invited and joined; returns its id. */
async function privateRoom(alice: Client, others: Client[]): Promise<string> {
  const { room } = await alice.rooms.create({ type: 'private', name: 'split' })
  for (const other of others) {
    await alice.rooms.invite(room.id, [await addressOf(other)])
    await other.rooms.join(room.id)
  }
  return room.id
}

async function setUp(url: string, count: number): Promise<Client[]> {
  const clients = Array.from({ length: count }, () => newClient(url))
  for (const client of clients) await client.setup()
  return clients
}

const forksOf = (client: Client) => {
  const forks: RoomFork[] = []
  client.onFork((fork) => forks.push(fork))
  return forks
}

/** Rewrites the room's newest log entry in the database (its signed time moved by 1 ms): another CID at the same index. */
async function rewriteNewestEntry(server: TestServer, room: string): Promise<{ index: number; before: string; after: string }> {
  const db = server.ctx.database.db
  const row = await db
    .selectFrom('messages')
    .select(['id', 'envelope', 'cid'])
    .where('room_id', '=', room)
    .where('kind', '=', 'log')
    .orderBy('seq', 'desc')
    .executeTakeFirstOrThrow()
  const entry = JSON.parse(row.envelope) as LogEntry
  const at = new Date(Date.parse(entry.event.at) + 1).toISOString()
  const block = toBlock({ ...entry, event: { ...entry.event, at } })
  await db.updateTable('messages').set({ envelope: block.text, cid: block.cid }).where('id', '=', row.id).execute()
  await db.updateTable('rooms').set({ log_head: block.cid }).where('id', '=', room).execute()
  server.ctx.roomCache.clear()
  return { index: entry.index, before: row.cid, after: block.cid }
}

describe.each(DIALECTS)('hostile server: split views (%s)', (dialect) => {
  const setup = serverBehindProxy(dialect)

  /** Has the proxy answer `client`'s log and history requests of `room` without the entries `hidden` names. */
  async function hideEntries(client: Client, room: string, hidden: (cid: string) => boolean) {
    await client.signIn()
    const token = `Bearer ${client.state.session?.token}`
    setup.proxy.rewrite = (request, answer) => {
      if (request.headers.authorization !== token || answer.status !== 200) return undefined
      const body = JSON.parse(answer.body)
      if (request.path === `/v1/rooms/${room}/log`) body.entries = body.entries.filter((e: { cid: string }) => !hidden(e.cid))
      else if (request.path === `/v1/rooms/${room}/messages`) {
        body.messages = body.messages.filter((m: { cid: string }) => !hidden(m.cid))
      } else return undefined
      return JSON.stringify(body)
    }
  }

  attack('a kick hidden from one member (a split view), so its client would keep the kicked member', 'at once', async () => {
    const [alice, bob, mallory] = await setUp(setup.proxy.url, 3)
    if (!alice || !bob || !mallory) throw new Error('no clients')
    const room = await privateRoom(alice, [bob, mallory])
    await alice.send(room, 'before the kick')
    expect((await bob.messages(room, { limit: 100 })).messages.at(-1)).toMatchObject({ text: 'before the kick', status: 'ok' })
    const bobsHead = (await bob.rooms.log(room)).events.at(-1)
    const forks = forksOf(bob)

    await alice.rooms.kick(room, [await addressOf(mallory)])
    const kick = (await alice.rooms.log(room)).events.at(-1)
    if (!kick || !bobsHead) throw new Error('no log')
    await hideEntries(bob, room, (cid) => cid === kick.cid)
    // The kick makes a new epoch, wrapped to alice and bob at the log head with the kick.
    await alice.send(room, 'after the kick')
    const { epoch } = (await alice.rooms.keys(room)).encryption

    const after = (await bob.messages(room, { limit: 100 })).messages.at(-1)
    expect(after).toMatchObject({ text: null, status: 'undecryptable' })
    const expected = {
      room,
      reason: 'unknown_head',
      theirs: { cid: kick.cid, index: kick.index },
      ours: { cid: bobsHead.cid, index: bobsHead.index },
      namedBy: { address: await addressOf(alice), record: { type: 'key_delivery', epoch } },
    }
    expect((await bob.rooms.get(room)).fork).toMatchObject(expected)
    expect(forks).toMatchObject([expected])
    // Alice, shown the one log, sees no fork.
    expect((await alice.rooms.get(room)).fork).toBeNull()
  })

  attack('a group message naming a log head hidden from its reader', 'at once', async () => {
    const [alice, bob, carol] = await setUp(setup.proxy.url, 3)
    if (!alice || !bob || !carol) throw new Error('no clients')
    const room = await alice.rooms.create({ type: 'public', name: 'split' }).then(({ room }) => room.id)
    await bob.rooms.join(room)
    await bob.rooms.get(room)
    // Carol joins; the server hides her join from bob, as if she were not a member.
    await carol.rooms.join(room)
    const join = (await carol.rooms.log(room)).events.at(-1)
    if (!join) throw new Error('no log')
    await hideEntries(bob, room, (cid) => cid === join.cid)
    const sent = await carol.send(room, 'hello from carol')

    const message = (await bob.messages(room, { limit: 100 })).messages.find((m) => m.id === sent.id)
    expect(message).toMatchObject({ text: null, status: 'unknown_log_head' })
    expect((await bob.rooms.get(room)).fork).toMatchObject({
      reason: 'unknown_head',
      theirs: { cid: join.cid, index: null },
      namedBy: { address: await addressOf(carol), record: { type: 'message', id: sent.id, seq: sent.seq } },
    })
  })

  attack('a membership-log entry a member verified, rewritten in the database', 'at once', async () => {
    const [alice, bob, carol] = await setUp(setup.proxy.url, 3)
    if (!alice || !bob || !carol) throw new Error('no clients')
    const room = await privateRoom(alice, [bob])
    expect((await bob.rooms.get(room)).fork).toBeNull()
    const stream = bob.stream({ cursor: 'latest' })
    await collect(stream, (events) => events.some((e) => e.type === 'caught_up'))

    const rewritten = await rewriteNewestEntry(setup.server, room)
    // The next entry links the rewritten one: the log bob is served now forks from his.
    await alice.rooms.invite(room, [await addressOf(carol)])

    const events = await collect(stream, (events) => events.some((e) => e.type === 'fork'))
    stream.close()
    const expected = {
      room,
      reason: 'rewritten_entry',
      theirs: { cid: rewritten.after, index: rewritten.index },
      ours: { cid: rewritten.before, index: rewritten.index },
      namedBy: null,
    }
    expect(events.find((e) => e.type === 'fork')).toMatchObject({ type: 'fork', room, fork: expected })
    expect((await bob.rooms.get(room)).fork).toMatchObject(expected)
  })

  attack('a membership-log entry rewritten in the database, served to a member after a restart', 'at once', async () => {
    const [alice, bob] = await setUp(setup.proxy.url, 2)
    if (!alice || !bob) throw new Error('no clients')
    const room = await privateRoom(alice, [bob])
    // Bob's device keeps what it verified (a browser's localStorage, the CLI's home).
    const storage = memoryStorage()
    const device = () => createClient({ server: setup.proxy.url, wallet: privateKeyWallet(bob.key), storage })
    expect((await device().rooms.get(room)).fork).toBeNull()

    const rewritten = await rewriteNewestEntry(setup.server, room)
    const restarted = device()
    const expected = {
      reason: 'rewritten_entry',
      theirs: { cid: rewritten.after, index: rewritten.index },
      ours: { cid: rewritten.before, index: rewritten.index },
    }
    expect((await restarted.rooms.get(room)).fork).toMatchObject(expected)
    // The fork is kept: a later run still warns.
    expect((await device().rooms.get(room)).fork).toMatchObject(expected)
  })

  test('behavior: a member merely behind the log reads it again and does not warn', async () => {
    const [alice, bob, carol] = await setUp(setup.proxy.url, 3)
    if (!alice || !bob || !carol) throw new Error('no clients')
    const room = await privateRoom(alice, [bob])
    await alice.send(room, 'one')
    expect((await bob.messages(room, { limit: 100 })).messages.at(-1)).toMatchObject({ text: 'one', status: 'ok' })
    const forks = forksOf(bob)

    // Carol joins and her first message makes a new epoch at her log head, which bob has not read.
    await alice.rooms.invite(room, [await addressOf(carol)])
    await carol.rooms.join(room)
    const newest = new Set((await carol.rooms.log(room)).events.slice(-2).map((e) => e.cid))
    await carol.send(room, 'hi all')
    // The first log read after that is served stale (a lagging replica), the next ones in full.
    let stale = 1
    await hideEntries(bob, room, (cid) => newest.has(cid) && stale > 0)
    const rewrite = setup.proxy.rewrite
    setup.proxy.rewrite = (request, answer) => {
      const body = rewrite?.(request, answer)
      if (body !== undefined && request.path.endsWith('/log')) stale--
      return body
    }

    const { epochs } = await bob.rooms.keys(room)
    expect(epochs).toContain((await carol.rooms.keys(room)).encryption.epoch)
    expect((await bob.messages(room, { limit: 100 })).messages.at(-1)).toMatchObject({ text: 'hi all', status: 'ok' })
    expect((await bob.rooms.get(room)).fork).toBeNull()
    expect(forks).toEqual([])
    expect(stale, 'a stale log was served').toBeLessThan(1)
  })
})
