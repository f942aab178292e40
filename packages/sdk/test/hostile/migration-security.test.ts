/**
 * Pattern β uploads that try to break the swap: the receiver's client is real, but its uploads
 * are rewritten on the way (a tampering client, or a bug), and another wallet replays them. Each
 * must be refused with a clear code, leave every row as it was, and not stop an honest migration
 * afterwards.
 */

import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, test } from 'vitest'
import { sessionToken } from '../../src/_session.js'
import { ApiError, createClient, type DmtpClient, privateKeyWallet } from '../../src/index.js'
import { newClient, TestServer } from '../_util.js'
import { attack } from './attack.js'

type Upload = { envelopes: Record<string, unknown>[] } & Record<string, unknown>
type Answer = { status: number; body: { error?: { code: string; message: string } } }

/** A fetch that lets `rewrite` change each migration upload, and records the server's answers. */
function tamperingFetch(rewrite: (upload: Upload) => Upload | string) {
  const answers: Answer[] = []
  const fetch: typeof globalThis.fetch = async (input, init) => {
    if (!String(input).endsWith('/v1/migrations') || init?.method !== 'POST') return globalThis.fetch(input, init)
    const rewritten = rewrite(JSON.parse(String(init.body)) as Upload)
    const response = await globalThis.fetch(input, {
      ...init,
      body: typeof rewritten === 'string' ? rewritten : JSON.stringify(rewritten),
    })
    answers.push({ status: response.status, body: await response.clone().json() })
    return response
  }
  return { fetch, answers }
}

async function relayedConversation() {
  const server = await TestServer.create({ chain: true })
  const alice = newClient(server.url, undefined, { node: true })
  await alice.setup()
  const bobKey = generatePrivateKey()
  const bob = privateKeyToAccount(bobKey).address
  const carol = privateKeyToAccount(generatePrivateKey()).address
  const toBob = []
  for (let i = 0; i < 3; i++) toBob.push(await alice.send(bob, `to bob ${i}`))
  const toCarol = await alice.send(carol, 'to carol')
  return { server, alice, bobKey, bob, toBob, toCarol }
}

/** What a refused upload must leave as it was: the relayed rows, their handoffs, no swap recorded. */
async function swapState(server: TestServer, bob: string) {
  const db = server.ctx.database.db
  return {
    messages: byId(await db.selectFrom('messages').select(['id', 'cid', 'e2ee']).where('receiver', '=', bob).execute()),
    handoffs: (await db.selectFrom('handoffs').select('message_id').where('receiver', '=', bob).execute()).length,
    replacements: (await db.selectFrom('cids').select('cid').where('replaces', 'is not', null).execute()).length,
    deletions: (await db.selectFrom('block_deletions').select('cid').execute()).length,
  }
}

const byId = <T extends { id: string }>(rows: T[]) => rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))

/** A fetch through which no migration upload gets: the handoffs are prepared and stay. */
const uploadsFail: typeof fetch = async (input, init) => {
  if (String(input).endsWith('/v1/migrations') && init?.method === 'POST') throw new TypeError('network down')
  return fetch(input, init)
}

const first = (upload: Upload) => upload.envelopes[0] as Record<string, string>

type Case = {
  name: string
  rewrite: (upload: Upload, context: { carolMessage: string }) => Upload | string
  code: string
  status: number
}

const CASES: Case[] = [
  {
    name: 'a back-dated header',
    rewrite: (upload) => {
      first(upload).timestamp = '2020-01-01T00:00:00.000Z'
      return upload
    },
    status: 400,
    code: 'invalid_envelope',
  },
  {
    name: 'replacing another envelope',
    rewrite: (upload) => {
      first(upload).replaces = (upload.envelopes[1] as Record<string, string>).replaces as string
      return upload
    },
    status: 400,
    code: 'invalid_envelope',
  },
  {
    name: 'a ciphertext changed after signing',
    rewrite: (upload) => {
      const envelope = first(upload)
      const flipped = envelope.messages?.startsWith('A') ? 'B' : 'A'
      envelope.messages = `${flipped}${envelope.messages?.slice(1)}`
      return upload
    },
    status: 400,
    code: 'invalid_signature',
  },
  {
    name: 'a changed hash in the batch proof',
    rewrite: (upload) => {
      const envelope = upload.envelopes[0] as { proof: string[] }
      const [step = ''] = envelope.proof
      envelope.proof = [`${step.slice(0, 5)}${step[5] === 'A' ? 'B' : 'A'}${step.slice(6)}`, ...envelope.proof.slice(1)]
      return upload
    },
    status: 400,
    code: 'invalid_signature',
  },
  {
    name: "another envelope's batch proof",
    rewrite: (upload) => {
      ;(upload.envelopes[0] as { proof: string[] }).proof = (upload.envelopes[1] as { proof: string[] }).proof
      return upload
    },
    status: 400,
    code: 'invalid_signature',
  },
  {
    name: 'a malformed batch proof',
    rewrite: (upload) => {
      ;(upload.envelopes[0] as { proof: unknown }).proof = ['not a step']
      return upload
    },
    status: 400,
    code: 'validation_failed',
  },
  {
    name: "a message relayed to someone else (another receiver's id)",
    rewrite: (upload, { carolMessage }) => {
      first(upload).id = carolMessage
      return upload
    },
    status: 404,
    code: 'not_found',
  },
  {
    name: 'an unknown field',
    rewrite: (upload) => ({ ...upload, extra: true }),
    status: 400,
    code: 'validation_failed',
  },
  { name: 'malformed JSON', rewrite: () => '{"envelopes": [', status: 400, code: 'invalid_json' },
]

const caseNamed = (name: string) => CASES.find((c) => c.name === name) as Case

/** Runs each case on a server of its own: refused with its code, nothing changed, and an honest migration after. */
async function refusedUploads(names: string[]): Promise<void> {
  for (const { name, rewrite, status, code } of names.map(caseNamed)) {
    const { server, bobKey, bob, toBob, toCarol } = await relayedConversation()
    await using _server = server
    const tampering = tamperingFetch((upload) => rewrite(upload, { carolMessage: toCarol.id }))
    const tamperer = createClient({ server: server.url, wallet: privateKeyWallet(bobKey), fetch: tampering.fetch })
    // Setup publishes the keys (the server then writes the handoffs) and tries to migrate.
    const setup = await tamperer.setup()
    expect(setup.migration, name).toMatchObject({ migrated: 0, remaining: 3, error: expect.any(String) })
    expect(tampering.answers[0], name).toMatchObject({ status, body: { error: { code } } })
    expect(await swapState(server, bob), name).toEqual({
      messages: byId(toBob.map(({ id, cid }) => ({ id, cid, e2ee: 0 }))),
      handoffs: 3,
      replacements: 0,
      deletions: 0,
    })

    const honest = await newClient(server.url, bobKey, { node: true }).migrate()
    expect(honest, name).toMatchObject({ migrated: 3, remaining: 0, rejected: [] })
  }
}

describe('pattern β swap, attacked (sqlite, anvil)', () => {
  attack(
    'a handoff upload with its header edited',
    'at once',
    () => refusedUploads(['a back-dated header', 'replacing another envelope']),
    60_000,
  )

  attack('a handoff ciphertext changed after signing', 'at once', () => refusedUploads(['a ciphertext changed after signing']))

  attack(
    'a handoff batch proof edited, swapped or malformed',
    'at once',
    () => refusedUploads(['a changed hash in the batch proof', "another envelope's batch proof", 'a malformed batch proof']),
    90_000,
  )

  attack("a handoff upload for another receiver's message", 'at once', () =>
    refusedUploads(["a message relayed to someone else (another receiver's id)"]),
  )

  for (const name of ['an unknown field', 'malformed JSON']) {
    test(`behavior: an upload with ${name} is refused with ${caseNamed(name).code}, and nothing changes`, () =>
      refusedUploads([name]))
  }

  // Refused with not_found, and nothing changes.
  attack('a handoff upload replayed by another wallet', 'at once', async () => {
    const { server, bobKey, bob } = await relayedConversation()
    await using _server = server
    let captured: string | undefined
    const capture = tamperingFetch((upload) => {
      captured = JSON.stringify(upload)
      return '{}'
    })
    await createClient({ server: server.url, wallet: privateKeyWallet(bobKey), fetch: capture.fetch }).setup()
    expect(captured).toBeDefined()
    const before = await swapState(server, bob)

    const mallory = newClient(server.url, undefined, { node: true })
    await mallory.setup()
    const replayed = await fetch(`${server.url}/v1/migrations`, {
      method: 'POST',
      body: captured,
      headers: await sessionHeaders(mallory),
    })
    expect(replayed.status).toBe(404)
    expect((await replayed.json()).error.code).toBe('not_found')
    expect(await swapState(server, bob)).toEqual(before)
  })
})

describe('handoff listing', () => {
  test('behavior: pages follow their cursor; a malformed cursor is refused and changes nothing', async () => {
    const { server, bobKey, bob } = await relayedConversation()
    await using _server = server
    // Keys, but no upload gets through: the handoffs are prepared and stay.
    const bobClient = createClient({ server: server.url, wallet: privateKeyWallet(bobKey), fetch: uploadsFail })
    await bobClient.setup()
    await server.ctx.migrations.prepare(bob)
    const headers = await sessionHeaders(bobClient)
    const list = async (query: string) => {
      const response = await fetch(`${server.url}/v1/migrations?${query}`, { headers })
      return { status: response.status, body: await response.json() }
    }

    const whole = await list('limit=3')
    expect(whole.status).toBe(200)
    expect(whole.body.handoffs).toHaveLength(3)
    const ids = whole.body.handoffs.map((h: { original: { id: string } }) => h.original.id)

    const firstPage = await list('limit=2')
    expect(firstPage.body.handoffs.map((h: { original: { id: string } }) => h.original.id)).toEqual(ids.slice(0, 2))
    const secondPage = await list(`limit=2&after=${encodeURIComponent(firstPage.body.next)}`)
    expect(secondPage.body.handoffs.map((h: { original: { id: string } }) => h.original.id)).toEqual(ids.slice(2))
    const end = await list(`limit=2&after=${encodeURIComponent(secondPage.body.next)}`)
    expect(end.body).toEqual({ handoffs: [], remaining: 3, next: null })

    const before = await swapState(server, bob)
    for (const after of ['nope', `${firstPage.body.next}x`, '2026-01-01T00:00:00.000Z', "2026-01-01T00:00:00.000Z~' OR 1=1 --"]) {
      const refused = await list(`after=${encodeURIComponent(after)}`)
      expect(refused.status, after).toBe(400)
      expect(refused.body.error.code).toBe('validation_failed')
    }
    expect(await swapState(server, bob)).toEqual(before)
  })

  // 501 handoffs, copies of a real one: refused before any upload.
  attack('a handoff page with more entries than a page holds', 'at once', async () => {
    const { server, bobKey, bob } = await relayedConversation()
    await using _server = server
    await createClient({ server: server.url, wallet: privateKeyWallet(bobKey), fetch: uploadsFail }).setup()
    await server.ctx.migrations.prepare(bob)
    const before = await swapState(server, bob)
    let uploads = 0
    // A server (or a proxy) that answers a page request with 501 handoffs: copies of a real one.
    const inflating: typeof fetch = async (input, init) => {
      const url = String(input)
      if (url.includes('/v1/migrations') && init?.method === 'POST') uploads++
      const response = await fetch(input, init)
      if (!url.includes('/v1/migrations?')) return response
      const page = (await response.json()) as { handoffs: unknown[] }
      const inflated = { ...page, handoffs: Array.from({ length: 501 }, () => page.handoffs[0]) }
      return new Response(JSON.stringify(inflated), { status: response.status, headers: response.headers })
    }
    const error = await createClient({ server: server.url, wallet: privateKeyWallet(bobKey), fetch: inflating })
      .migrate()
      .catch((reason: unknown) => reason)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ code: 'upstream_failure' })
    expect((error as ApiError).cause).toMatchObject({ issues: [{ code: 'too_big', path: ['handoffs'], maximum: 500 }] })
    expect(uploads).toBe(0)
    expect(await swapState(server, bob)).toEqual(before)
  })
})

/** The signed-in headers of a client (its session token), as any HTTP tool could send them. */
async function sessionHeaders(client: DmtpClient): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await sessionToken(client)}`, 'content-type': 'application/json' }
}
