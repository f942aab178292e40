/**
 * The server alone, measured the way chat servers such as ejabberd are: clients replay envelopes
 * built beforehand (valid, signed, so the server does its full verification) over raw
 * WebSockets, and receivers only count frames. The figure is what the server persists and
 * delivers per second, with no client crypto in the loop: in steady state, counted after the first
 * `warmup` messages (a fresh process runs cold code for its first second or so); the rate over the
 * whole run, warm-up included, is reported as `coldMsgsPerSecond`.
 */
import { deriveConversationKey, type Envelope, P2P_SUITE, sealEnvelope, toBase64Url } from '@dmtp/protocol'
import { nodeCryptoBackend as crypto } from '@dmtp/protocol/node'
import WebSocket from 'ws'
import { makePairs } from '../_pairs.js'
import { round } from '../_stats.js'

async function buildEnvelopes(pair: Awaited<ReturnType<typeof makePairs>>[number], count: number): Promise<Envelope[]> {
  const { alice, bob, aliceAddress, bobAddress } = pair
  const ownCid = alice.state.currentCid as string
  const own = await (alice.state.ownKeys.get(ownCid) as Promise<import('@dmtp/protocol').DmtpKeys>)
  const peer = await alice.whois(bobAddress)
  if (!peer.registered || !peer.verified) throw new Error('peer not set up')
  const peerKeys = await bob.whois(bobAddress)
  if (!peerKeys.registered || !peerKeys.verified) throw new Error('peer not set up')
  const key = await deriveConversationKey(crypto, {
    secretKey: own.x25519.secretKey,
    publicKey: own.x25519.publicKey,
    address: aliceAddress,
    peerPublicKey: Buffer.from(peer.bundle.DMTPpubKey.x25519, 'base64url'),
    peerAddress: bobAddress,
  })
  const room = alice.state.rooms.get(bobAddress) as string
  const envelopes: Envelope[] = []
  for (let i = 0; i < count; i++) {
    envelopes.push(
      await sealEnvelope(crypto, {
        header: {
          v: 1,
          suite: P2P_SUITE,
          id: toBase64Url(crypto.randomBytes(16)),
          room,
          sender: aliceAddress,
          receiver: bobAddress,
          timestamp: new Date().toISOString(),
          senderKey: ownCid,
          receiverKey: peer.cid,
        },
        content: { type: 'text', text: `replayed ${i} ${'x'.repeat(64)}` },
        key,
        signingKey: own.ed25519.secretKey,
      }),
    )
  }
  return envelopes
}

function connect(wsUrl: string, token: string, onFrame: (frame: { type: string }) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl)
    socket.on('open', () => socket.send(JSON.stringify({ type: 'hello', token, cursor: Number.MAX_SAFE_INTEGER })))
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string }
      if (frame.type === 'caught_up') resolve(socket)
      onFrame(frame)
    })
    socket.on('error', reject)
  })
}

export async function serverOnly(
  server: string,
  { pairs: pairCount, messages, window, warmup = 0 }: { pairs: number; messages: number; window: number; warmup?: number },
) {
  const pairs = await makePairs(server, pairCount)
  const perPair = Math.ceil((messages + warmup) / pairCount)
  const envelopes = await Promise.all(pairs.map((pair) => buildEnvelopes(pair, perPair)))
  const wsUrl = `${server.replace(/^http/, 'ws')}/v1/stream`
  let received = 0
  let acked = 0
  let errors = 0
  const total = perPair * pairCount
  let markDone: () => void = () => {}
  const done = new Promise<void>((resolve) => {
    markDone = resolve
  })
  let warmedAt: number | undefined
  const receivers = await Promise.all(
    pairs.map((pair) =>
      connect(wsUrl, pair.bob.state.session?.token as string, (frame) => {
        if (frame.type !== 'message') return
        received++
        if (received === warmup) warmedAt = performance.now()
        if (received === total) markDone()
      }),
    ),
  )
  const started = performance.now()
  const senders = await Promise.all(
    pairs.map(async (pair, p) => {
      const batch = envelopes[p] as Envelope[]
      let next = 0
      let socket: WebSocket | undefined
      const pump = () => {
        const frame = batch[next]
        if (!frame || !socket) return
        socket.send(JSON.stringify({ type: 'send', ref: String(next), envelope: frame }))
        next++
      }
      socket = await connect(wsUrl, pair.alice.state.session?.token as string, (frame) => {
        if (frame.type === 'sent') {
          acked++
          pump()
        } else if (frame.type === 'error') {
          errors++
          pump()
        }
      })
      for (let i = 0; i < window; i++) pump()
      return socket
    }),
  )
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 60_000))])
  const ended = performance.now()
  for (const socket of [...senders, ...receivers]) socket.close()
  const counted = Math.min(received, acked)
  const steadySeconds = (ended - (warmedAt ?? started)) / 1000
  return {
    msgsPerSecond: round((counted - (warmedAt === undefined ? 0 : warmup)) / steadySeconds, 0),
    coldMsgsPerSecond: round(counted / ((ended - started) / 1000), 0),
    received,
    acked,
    errors,
    seconds: round(steadySeconds, 2),
  }
}
