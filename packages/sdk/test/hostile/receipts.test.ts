/**
 * An ack the client can hold the server to (issue 16 item 2, protocol.md §5.6). A real proxy
 * between the SDK and a real server strips, edits and re-signs acks, and rows are deleted behind
 * the server's back after it acked them. Each test asserts what the sender is shown: a send whose
 * ack has no valid receipt of the server's verified key is an error, not "sent"; a receipted
 * message the history later lacks is reported with the receipt as evidence a third party can check,
 * also by the next run of the client (the receipts are kept in its storage).
 */
import { checkReceiptEvidence, toBase64Url } from '@dmtp/protocol'
import { nodeCryptoBackend as crypto } from '@dmtp/protocol/node'
import { generatePrivateKey } from 'viem/accounts'
import { describe, expect, test } from 'vitest'
import { type ClientStorage, createClient, memoryStorage, privateKeyWallet, ReceiptRejectedError } from '../../src/index.js'
import { DIALECTS, newClient } from '../_util.js'
import { serverBehindProxy } from './_behind-proxy.js'
import { attack } from './attack.js'

describe.each(DIALECTS)('receipts (%s)', (dialect) => {
  const setup = serverBehindProxy(dialect)

  /** A sender (with its own storage, as a browser or the CLI home would keep) and a receiver. */
  async function pair(storage: ClientStorage = memoryStorage()) {
    const key = generatePrivateKey()
    const alice = createClient({ server: setup.proxy.url, wallet: privateKeyWallet(key), crypto, storage })
    const bob = newClient(setup.proxy.url, undefined, { node: true })
    await Promise.all([alice.setup(), bob.setup()])
    return { alice, key, storage, bob: (await bob.getWallet()).address, bobCid: bob.state.currentCid as string }
  }

  /** Rewrites the next ack of a send (HTTP `POST /v1/messages`) with `edit`. */
  function onAck(edit: (ack: Record<string, any>) => Record<string, any>) {
    setup.proxy.rewriteJson = (path, body) => (path === '/v1/messages' && body?.receipt !== undefined ? edit(body) : body)
  }

  async function refusal(send: Promise<unknown>): Promise<ReceiptRejectedError> {
    const error = await send.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(ReceiptRejectedError)
    return error as ReceiptRejectedError
  }

  attack('an ack without a receipt', 'at once', async () => {
    const { alice, bob } = await pair()
    onAck(({ receipt: _, ...ack }) => ack)
    const error = await refusal(alice.send(bob, 'was it stored?'))
    expect(error.code).toBe('receipt_missing')
  })

  attack('an ack naming another position than the receipt signed', 'at once', async () => {
    const { alice, bob } = await pair()
    await alice.send(bob, 'first')
    onAck((ack) => ({ ...ack, seq: ack.seq + 5 }))
    const error = await refusal(alice.send(bob, 'second'))
    expect(error.code).toBe('receipt_invalid')
  })

  attack('an ack for another message', 'at once', async () => {
    const { alice, bob } = await pair()
    onAck((ack) => ({ ...ack, id: toBase64Url(crypto.randomBytes(16)) }))
    const error = await refusal(alice.send(bob, 'mine'))
    expect(error.code).toBe('receipt_mismatch')
  })

  attack('a receipt signed by a key that is not the server key', 'at once', async () => {
    const { alice, bob, bobCid } = await pair()
    // A real key bundle, properly signed by its wallet, but not the server's.
    onAck((ack) => ({ ...ack, receipt: { ...ack.receipt, key: bobCid, signature: toBase64Url(crypto.randomBytes(64)) } }))
    const error = await refusal(alice.send(bob, 'who signed this?'))
    expect(error.code).toBe('receipt_key_rejected')
  })

  attack('an ack of a send never stored', 'at once', async () => {
    const { alice, bob, key, storage } = await pair()
    const kept = await alice.send(bob, 'kept')
    const lost = await alice.send(bob, 'acked, then dropped')
    expect(lost.receipt.key).toBe(setup.server.ctx.serverKey.get().cid)
    // The operator drops the acked message from the database.
    await setup.server.ctx.database.db.deleteFrom('messages').where('id', '=', lost.id).execute()

    const page = await alice.messages(bob)
    expect(page.messages.map((message) => message.text)).toEqual(['kept'])
    expect(page.broken).toHaveLength(1)
    expect(page.broken[0]).toMatchObject({ receipt: { id: lost.id, seq: lost.seq }, found: null })
    expect(page.broken[0]?.reason).toContain(`position ${lost.seq}`)

    // The next run of the client, from the same storage, still holds the server to it.
    const later = createClient({ server: setup.proxy.url, wallet: privateKeyWallet(key), crypto, storage })
    const checked = await later.checkReceipts()
    expect(checked.contradicted.map(({ receipt }) => receipt.id)).toEqual([lost.id])
    expect(checked.confirmed.map(({ id }) => id)).not.toContain(kept.id)

    // The evidence convinces a third party with only the server's published key bundle.
    const bundle = (await fetch(`${setup.server.url}/v1/server-key`).then((answer) => answer.json())).bundle
    const verdict = await checkReceiptEvidence(crypto, { evidence: checked.contradicted[0] as never, bundle })
    expect(verdict).toMatchObject({ valid: true, signer: bundle.address })
  })

  attack('history serving another message at a receipted position', 'at once', async () => {
    const { alice, bob } = await pair()
    const first = await alice.send(bob, 'one')
    const second = await alice.send(bob, 'two')
    // The operator moves the first message into the second's position and drops the second.
    const db = setup.server.ctx.database.db
    await db.deleteFrom('messages').where('id', '=', second.id).execute()
    await db.updateTable('messages').set({ seq: second.seq }).where('id', '=', first.id).execute()

    const checked = await alice.checkReceipts()
    const reasons = checked.contradicted.map(({ receipt, reason }) => [receipt.id, reason])
    expect(reasons).toContainEqual([first.id, `position ${first.seq} of room ${first.room} is missing`])
    expect(reasons).toContainEqual([second.id, `position ${second.seq} holds message ${first.id}, not ${second.id}`])
  })

  test('an honest server, for contrast: every receipt is confirmed and let go', async () => {
    const { alice, bob } = await pair()
    const sent = [await alice.send(bob, 'a'), await alice.send(bob, 'b')]
    const page = await alice.messages(bob)
    expect(page.broken).toEqual([])
    const checked = await alice.checkReceipts()
    expect(checked).toEqual({ confirmed: [], contradicted: [], unchecked: [] })
    expect(sent.map((message) => message.seq)).toEqual([1, 2])
  })
})
