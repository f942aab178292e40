/**
 * The live stream and history reads do not take the server's word for order and completeness:
 * a real proxy between the SDK and a real server drops, repeats, reorders, renumbers and forges
 * stream frames and rewrites history pages, and a row is deleted behind the server's back. Each
 * test asserts what the user is shown: every message once, in room order, nothing skipped that
 * history holds, what history lacks reported as a gap, and no resume point the server made up.
 */
import {
  type DmtpKeys,
  deriveConversationKey,
  fromBase64Url,
  P2P_SUITE,
  sealEnvelope,
  toBase64Url,
  toBlock,
} from '@dmtp/protocol'
import { nodeCryptoBackend as crypto } from '@dmtp/protocol/node'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, test } from 'vitest'
import { type ApiError, HistoryRejectedError, type StreamEvent, type StreamReturnType } from '../../src/index.js'
import { collect, DIALECTS, messagesOf, newClient } from '../_util.js'
import { serverBehindProxy } from './_behind-proxy.js'
import { attack } from './attack.js'

type Client = ReturnType<typeof newClient>

const textsOf = (events: StreamEvent[]) => messagesOf(events).map((message) => message.text)
const refetchedOf = (events: StreamEvent[]) =>
  events.flatMap((event) => (event.type === 'message' && event.refetched ? [event.message.text] : []))
const reportsOf = (events: StreamEvent[]) => events.filter((event) => event.type === 'gap' || event.type === 'rejected')

describe.each(DIALECTS)('stream integrity (%s)', (dialect) => {
  const setup = serverBehindProxy(dialect)

  /** Two new wallets, set up through the proxy; the requests log starts after them. */
  async function pair() {
    const alice = newClient(setup.proxy.url, undefined, { node: true })
    const bob = newClient(setup.proxy.url, undefined, { node: true })
    await Promise.all([alice.setup(), bob.setup()])
    const bobAddress = (await bob.getWallet()).address
    setup.proxy.requests.length = 0
    return { alice, bob, bobAddress, aliceAddress: (await alice.getWallet()).address }
  }

  async function say(from: Client, to: string, texts: string[]) {
    for (const text of texts) await from.send(to, text)
  }

  async function live(client: Client, cursor: number | 'latest' = 'latest'): Promise<StreamReturnType> {
    const stream = client.stream({ cursor })
    await collect(stream, (events) => events.some((event) => event.type === 'caught_up'))
    return stream
  }

  /** Runs `hook` on each message frame with its index (0 for the first), other frames pass. */
  function onMessageFrame(hook: (frame: Record<string, any>, index: number, send: (frame: Record<string, any>) => void) => void) {
    let index = 0
    setup.proxy.onServerFrame = (frame, send) => (frame.type === 'message' ? hook(frame, index++, send) : send(frame))
  }

  /** Sends the texts then `end`, and collects the stream until `end` is shown. */
  async function run(alice: Client, bobAddress: string, stream: StreamReturnType, texts: string[]) {
    await say(alice, bobAddress, [...texts, 'end'])
    return collect(stream, (events) => textsOf(events).includes('end'))
  }

  const rereads = () => setup.proxy.requests.filter((request) => /\/messages\?|\/v1\/inbox\?/.test(request))

  test('default: an honest stream shows each message once, in order, with rising cursors and no re-reads', async () => {
    const { alice, bob, bobAddress } = await pair()
    const stream = await live(bob)
    const events = await run(alice, bobAddress, stream, ['m0', 'm1', 'm2'])
    expect(textsOf(events)).toEqual(['m0', 'm1', 'm2', 'end'])
    const cursors = events.flatMap((event) => (event.type === 'message' ? [event.cursor] : []))
    expect(cursors.every((cursor, i) => i === 0 || cursor > (cursors[i - 1] as number))).toBe(true)
    expect(messagesOf(events).map((m) => m.seq)).toEqual([1, 2, 3, 4])
    expect(refetchedOf(events)).toEqual([])
    expect(reportsOf(events)).toEqual([])
    expect(rereads()).toEqual([])
    expect(stream.cursor).toBe(cursors.at(-1))
    stream.close()
  })

  // Read back from history and shown before what follows it.
  attack('a dropped stream frame', 'at once', async () => {
    const { alice, bob, bobAddress } = await pair()
    const stream = await live(bob)
    onMessageFrame((frame, index, send) => index !== 1 && send(frame))
    const events = await run(alice, bobAddress, stream, ['m0', 'm1', 'm2'])
    expect(textsOf(events)).toEqual(['m0', 'm1', 'm2', 'end'])
    expect(refetchedOf(events)).toEqual(['m1'])
    expect(reportsOf(events)).toEqual([])
    stream.close()
  })

  // Each shown once.
  attack('a stream frame sent twice, or again later renumbered as new', 'at once', async () => {
    const { alice, bob, bobAddress } = await pair()
    const stream = await live(bob)
    let first: Record<string, any> = {}
    onMessageFrame((frame, index, send) => {
      if (index === 0) first = frame
      send(frame)
      send(frame)
      // The first message again, as if it were the room's next position.
      if (index === 2) send({ ...first, cursor: frame.cursor + 1, message: { ...first.message, seq: frame.message.seq + 1 } })
    })
    const events = await run(alice, bobAddress, stream, ['m0', 'm1', 'm2'])
    expect(textsOf(events)).toEqual(['m0', 'm1', 'm2', 'end'])
    expect(new Set(messagesOf(events).map((m) => m.cid)).size).toBe(4)
    stream.close()
  })

  // Shown in room order, once.
  attack('reordered stream frames', 'at once', async () => {
    const { alice, bob, bobAddress } = await pair()
    const stream = await live(bob)
    let held: Record<string, any> | undefined
    onMessageFrame((frame, index, send) => {
      if (index === 1) held = frame
      else send(frame)
      if (index === 2 && held) send(held)
    })
    const events = await run(alice, bobAddress, stream, ['m0', 'm1', 'm2'])
    expect(textsOf(events)).toEqual(['m0', 'm1', 'm2', 'end'])
    expect(messagesOf(events).map((m) => m.seq)).toEqual([1, 2, 3, 4])
    expect(refetchedOf(events)).toEqual(['m1'])
    stream.close()
  })

  // Shown at the place history gives it, once.
  attack('a stream frame with its room position renumbered', 'at once', async () => {
    const { alice, bob, bobAddress } = await pair()
    const stream = await live(bob)
    onMessageFrame((frame, index, send) =>
      send(index === 1 ? { ...frame, message: { ...frame.message, seq: frame.message.seq + 5 } } : frame),
    )
    const events = await run(alice, bobAddress, stream, ['m0', 'm1', 'm2'])
    expect(textsOf(events)).toEqual(['m0', 'm1', 'm2', 'end'])
    expect(messagesOf(events).map((m) => m.seq)).toEqual([1, 2, 3, 4])
    expect(reportsOf(events)).toEqual([])
    stream.close()
  })

  // Each header field and the ciphertext, edited in a history answer with the record's CID kept or
  // made to match the edit: never shown as the sender's words, and nothing else is disturbed.
  attack('an envelope edited on the way to the receiver', 'at once', async () => {
    const { alice, bob, bobAddress, aliceAddress } = await pair()
    for (const text of ['h0', 'h1', 'h2']) await alice.send(bobAddress, text)
    const flip = (value: string) => `${value.slice(0, 5)}${value[5] === 'A' ? 'B' : 'A'}${value.slice(6)}`
    const stranger = privateKeyToAccount(generatePrivateKey()).address
    const edits: Record<string, (value: string) => string> = {
      messages: flip,
      nonce: flip,
      id: flip,
      room: flip,
      timestamp: (value) => new Date(Date.parse(value) + 1).toISOString(),
      sender: () => stranger,
      receiver: () => stranger,
      senderKey: flip,
      receiverKey: flip,
    }
    const shown: Record<string, string[]> = {}
    for (const [field, edit] of Object.entries(edits)) {
      for (const cid of ['kept', 'matched'] as const) {
        setup.proxy.rewriteJson = (path, body) => {
          if (!path.includes('/messages?')) return body
          const messages = body.messages.map((record: any) => {
            if (record.seq !== 2) return record
            const envelope = { ...record.envelope, [field]: edit(record.envelope[field]) }
            return { ...record, envelope, cid: cid === 'kept' ? record.cid : toBlock(envelope, crypto.sha256).cid }
          })
          return { ...body, messages }
        }
        const page = await bob.messages(aliceAddress).catch((error: unknown) => error)
        if (page instanceof Error) {
          shown[field] = [...(shown[field] ?? []), `${cid}: ${page.name} ${(page as ApiError).code}`]
          continue
        }
        const { messages } = page as Awaited<ReturnType<typeof bob.messages>>
        expect(messages.map((m) => m.text)).toEqual(['h0', null, 'h2'])
        shown[field] = [...(shown[field] ?? []), `${cid}: ${messages[1]?.status}`]
      }
    }
    expect(shown).toMatchInlineSnapshot(`
      {
        "id": [
          "kept: altered",
          "matched: undecryptable",
        ],
        "messages": [
          "kept: altered",
          "matched: undecryptable",
        ],
        "nonce": [
          "kept: altered",
          "matched: undecryptable",
        ],
        "receiver": [
          "kept: not_for_me",
          "matched: not_for_me",
        ],
        "receiverKey": [
          "kept: ApiError upstream_failure",
          "matched: ApiError upstream_failure",
        ],
        "room": [
          "kept: altered",
          "matched: altered",
        ],
        "sender": [
          "kept: altered",
          "matched: unknown_key",
        ],
        "senderKey": [
          "kept: ApiError upstream_failure",
          "matched: ApiError upstream_failure",
        ],
        "timestamp": [
          "kept: altered",
          "matched: undecryptable",
        ],
      }
    `)
    setup.proxy.rewriteJson = undefined
    expect((await bob.messages(aliceAddress)).messages.map((m) => [m.text, m.status])).toEqual([
      ['h0', 'ok'],
      ['h1', 'ok'],
      ['h2', 'ok'],
    ])
  })

  // Read back; what was said while the member was away is not owed.
  attack('a dropped stream frame in a group', 'at once', async () => {
    const { alice, bob } = await pair()
    const { room } = await alice.rooms.create({ type: 'public', name: 'integrity' })
    const stream = await live(bob)
    await bob.rooms.join(room.id)
    await alice.send(room.id, 'g0')
    await bob.rooms.leave(room.id)
    await alice.send(room.id, 'while bob is away')
    await bob.rooms.join(room.id)
    onMessageFrame((frame, _index, send) => frame.message.content?.text !== 'g1' && send(frame))
    for (const text of ['g1', 'g2', 'end']) await alice.send(room.id, text)
    const events = await collect(stream, (events) => textsOf(events).includes('end'))
    const positions = messagesOf(events).map((m) => (m.type === 'system' ? m.event?.type : m.text))
    expect(positions).toEqual(['join', 'g0', 'leave', 'join', 'g1', 'g2', 'end'])
    expect(messagesOf(events).every((m) => m.status === 'ok')).toBe(true)
    expect(refetchedOf(events)).toEqual(['g1'])
    expect(reportsOf(events)).toEqual([])
    stream.close()
  })

  // Never the resume point, so nothing sent meanwhile is lost.
  attack('a stream cursor far ahead', 'at once', async () => {
    const { alice, bob, bobAddress } = await pair()
    const stream = await live(bob)
    const FAKE = 1_000_000_000
    onMessageFrame((frame, index, send) => send(index === 1 ? { ...frame, cursor: FAKE } : frame))
    const events = await run(alice, bobAddress, stream, ['m0', 'm1'])
    expect(textsOf(events)).toEqual(['m0', 'm1', 'end'])
    expect(events.flatMap((e) => (e.type === 'message' && e.cursor >= FAKE ? [e] : []))).toEqual([])
    expect(rereads().some((request) => request.includes(`/v1/inbox?after=${FAKE - 1}&limit=1`))).toBe(true)

    // The connection drops; a message arrives while it is down; the stream resumes from a true cursor.
    setup.proxy.onServerFrame = undefined
    setup.proxy.refuse = true
    setup.proxy.cut()
    await say(alice, bobAddress, ['while away'])
    setup.proxy.refuse = false
    const after = await collect(stream, (events) => textsOf(events).includes('while away'), 20_000)
    expect(textsOf(after)).toEqual(['while away'])
    expect(stream.cursor).toBeLessThan(FAKE)
    stream.close()
  })

  // Checked against the inbox; it never moves the resume point back.
  attack('a stream cursor that does not rise', 'at once', async () => {
    const { alice, bob, bobAddress } = await pair()
    const stream = await live(bob)
    let firstCursor = 0
    onMessageFrame((frame, index, send) => {
      if (index === 0) firstCursor = frame.cursor
      send(index === 1 ? { ...frame, cursor: firstCursor } : frame)
    })
    const events = await run(alice, bobAddress, stream, ['m0', 'm1', 'm2'])
    expect(textsOf(events)).toEqual(['m0', 'm1', 'm2', 'end'])
    const cursors = events.flatMap((event) => (event.type === 'message' ? [event.cursor] : []))
    expect(cursors[1]).toBe(firstCursor)
    expect(rereads().some((request) => request.includes(`/v1/inbox?after=${firstCursor - 1}&limit=1`))).toBe(true)
    expect(stream.cursor).toBe(cursors.at(-1))
    stream.close()
  })

  // Not shown; the true next one is.
  attack("an old message replayed as a room's next", 'at once', async () => {
    const { alice, bob, bobAddress, aliceAddress } = await pair()
    const room = await alice.openDirect(bobAddress)
    // A message Alice really signed an hour ago, that the server never stored at this position.
    const aliceCid = alice.state.currentCid as string
    const keys = await (alice.state.ownKeys.get(aliceCid) as Promise<DmtpKeys>)
    const bobBundle = await alice.whois(bobAddress)
    if (!bobBundle.registered) throw new Error('bob has keys')
    const key = await deriveConversationKey(crypto, {
      secretKey: keys.x25519.secretKey,
      publicKey: keys.x25519.publicKey,
      address: aliceAddress,
      peerPublicKey: fromBase64Url(bobBundle.bundle.DMTPpubKey.x25519),
      peerAddress: bobAddress,
    })
    const envelope = await sealEnvelope(crypto, {
      header: {
        v: 1,
        suite: P2P_SUITE,
        id: toBase64Url(crypto.randomBytes(16)),
        room,
        sender: aliceAddress,
        receiver: bobAddress,
        timestamp: new Date(Date.now() - 60 * 60_000).toISOString(),
        senderKey: aliceCid,
        receiverKey: bobBundle.cid,
      },
      content: { type: 'text', text: 'an hour old' },
      key,
      signingKey: keys.ed25519.secretKey,
    })
    const old = {
      cid: toBlock(envelope, crypto.sha256).cid,
      e2ee: true,
      receivedAt: new Date().toISOString(),
      envelope,
    }
    const stream = await live(bob)
    onMessageFrame((frame, index, send) => {
      if (index === 1) send({ ...frame, message: { ...old, seq: frame.message.seq } })
      send(frame)
    })
    const events = await run(alice, bobAddress, stream, ['m0', 'm1', 'm2'])
    expect(textsOf(events)).toEqual(['m0', 'm1', 'm2', 'end'])
    expect(reportsOf(events)).toEqual([
      {
        type: 'rejected',
        room,
        seq: 2,
        cid: old.cid,
        reason: expect.stringContaining("the server's history holds another record"),
      },
    ])
    stream.close()
  })

  // What it skipped is read back from the inbox.
  attack('a ready frame resuming further than asked', 'at once', async () => {
    const { alice, bob, bobAddress } = await pair()
    await say(alice, bobAddress, ['h0', 'h1', 'h2'])
    let latest = 0
    setup.proxy.onServerFrame = (frame, send) => {
      if (frame.type === 'ready') {
        latest = frame.latest
        return send({ ...frame, cursor: frame.latest })
      }
      // It skips the history it said it would not replay.
      if (frame.type === 'message' && frame.cursor <= latest) return
      send(frame)
    }
    const stream = bob.stream({ cursor: 0 })
    const events = await collect(stream, (events) => textsOf(events).length === 3)
    expect(textsOf(events)).toEqual(['h0', 'h1', 'h2'])
    expect(refetchedOf(events)).toEqual(['h0', 'h1', 'h2'])
    stream.close()
  })

  // Reported as a gap, by the stream and by reads.
  attack('a message deleted from history', 'at once', async () => {
    const { alice, bob, bobAddress, aliceAddress } = await pair()
    const sent = []
    for (const text of ['h0', 'h1', 'h2']) sent.push(await alice.send(bobAddress, text))
    const room = sent[0]?.room as string
    await setup.server.ctx.database.db
      .deleteFrom('messages')
      .where('id', '=', sent[1]?.id as string)
      .execute()
    const stream = bob.stream({ cursor: 0 })
    const events = await collect(stream, (events) => textsOf(events).length === 2)
    expect(textsOf(events)).toEqual(['h0', 'h2'])
    expect(reportsOf(events)).toEqual([{ type: 'gap', room, after: 1, before: 3 }])
    stream.close()

    const page = await bob.messages(aliceAddress)
    expect(page.messages.map((m) => m.text)).toEqual(['h0', 'h2'])
    expect(page.gaps).toEqual([{ after: 1, before: 3 }])
    const newest = await bob.messages(aliceAddress, { order: 'desc', limit: 1 })
    expect(newest.gaps).toEqual([])
    const older = await bob.messages(aliceAddress, { order: 'desc', cursor: newest.nextCursor as number })
    expect(older.messages.map((m) => m.text)).toEqual(['h0'])
    expect(older.gaps).toEqual([{ after: 1, before: 3 }])
    const inbox = await bob.inbox({ after: 0 })
    expect(inbox.entries.map((entry) => entry.message.text)).toEqual(['h0', 'h2'])
    expect(inbox.gaps).toEqual([{ room, after: 1, before: 3 }])
  })

  // Refused; a page with a hole is flagged.
  attack('a history page listing a record twice or out of order', 'at once', async () => {
    const { alice, bob, bobAddress, aliceAddress } = await pair()
    const sent = []
    for (const text of ['h0', 'h1', 'h2']) sent.push(await alice.send(bobAddress, text))
    const room = sent[0]?.room as string
    const page = (rewrite: (messages: any[]) => any[]) => {
      setup.proxy.rewriteJson = (path, body) =>
        path.includes('/messages?') ? { ...body, messages: rewrite(body.messages) } : body
      return bob.messages(aliceAddress).then(
        (result) => result,
        (error: unknown) => {
          expect(error).toBeInstanceOf(HistoryRejectedError)
          return (error as HistoryRejectedError).shortMessage.replace(room, '<room>')
        },
      )
    }
    expect(await page((m) => [m[0], ...m])).toMatch(/^The history of room <room> was refused: it lists \S+ twice\.$/)
    expect(await page((m) => [m[0], { ...m[1], seq: m[0].seq }, m[2]])).toMatchInlineSnapshot(
      `"The history of room <room> was refused: it lists position 1 twice."`,
    )
    expect(await page((m) => [m[0], m[2], m[1]])).toMatchInlineSnapshot(
      `"The history of room <room> was refused: position 2 comes after 3."`,
    )
    const holed = await page((m) => [m[0], m[2]])
    expect(typeof holed === 'string' ? holed : holed.gaps).toEqual([{ after: 1, before: 3 }])
    setup.proxy.rewriteJson = undefined
    expect((await bob.messages(aliceAddress)).gaps).toEqual([])
  })

  // Refused (also when its cursors do not rise); a page with a hole is flagged.
  attack('an inbox page listing a record twice or out of order', 'at once', async () => {
    const { alice, bob, bobAddress } = await pair()
    const sent = []
    for (const text of ['h0', 'h1', 'h2']) sent.push(await alice.send(bobAddress, text))
    const room = sent[0]?.room as string
    const page = (rewrite: (entries: any[]) => any[]) => {
      setup.proxy.rewriteJson = (path, body) =>
        path.startsWith('/v1/inbox?') ? { ...body, entries: rewrite(body.entries) } : body
      return bob.inbox({ after: 0 }).then(
        (result) => result,
        (error: unknown) => {
          expect(error).toBeInstanceOf(HistoryRejectedError)
          return (error as HistoryRejectedError).shortMessage.replace(room, '<room>').replace(/\bba[a-z2-7]{50,}/, '<cid>')
        },
      )
    }
    expect(await page((e) => [e[0], e[1], { ...e[0], cursor: e[2].cursor + 1 }])).toMatchInlineSnapshot(
      `"The history of room <room> was refused: the inbox lists <cid> twice."`,
    )
    expect(await page((e) => [e[1], { ...e[0], cursor: e[2].cursor }])).toMatchInlineSnapshot(
      `"The history of room <room> was refused: position 1 comes after 2."`,
    )
    // Cursors depend on what the server stored before this test: only their order is asserted.
    expect(await page((e) => [e[0], { ...e[1], cursor: e[0].cursor }, e[2]])).toMatch(
      /^The history of room <room> was refused: inbox cursor (\d+) comes after \1\.$/,
    )
    const holed = await page((e) => [e[0], e[2]])
    expect(typeof holed === 'string' ? holed : holed.gaps).toEqual([{ room, after: 1, before: 3 }])
    setup.proxy.rewriteJson = undefined
    expect((await bob.inbox({ after: 0 })).gaps).toEqual([])
  })
})
