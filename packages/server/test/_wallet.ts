/**
 * A raw-HTTP test client built only on @dmtp/protocol (server tests must not import the SDK):
 * it signs in, sets up keys and seals envelopes, and lets tests forge every kind of bad input.
 * `TestStream` is the same for the WebSocket stream. Every response body and frame can be
 * captured (`captureResponses`), so privacy tests can search what the server ever said.
 */
import {
  type ClientFrame,
  createKeyBundle,
  createSignInMessage,
  type DmtpKeys,
  deriveConversationKey,
  generateDmtpKeys,
  type KeyBundle,
  P2P_SUITE,
  type P2PEnvelope,
  type ServerFrame,
  sealEnvelope,
  serverFrameSchema,
  toBase64Url,
  toBlock,
  wrapDmtpKeys,
} from '@dmtp/protocol'
import { nodeCryptoBackend as crypto } from '@dmtp/protocol/node'
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'
import WebSocket from 'ws'

export type ApiResponse<T = any> = { status: number; body: T; text: string; headers: Headers }

const captures = new Set<string[]>()

/** Records the text of every HTTP response and server frame until disposed. */
export function captureResponses(): { bodies: string[] } & Disposable {
  const bodies: string[] = []
  captures.add(bodies)
  return { bodies, [Symbol.dispose]: () => void captures.delete(bodies) }
}

function captured(text: string): void {
  for (const bodies of captures) bodies.push(text)
}

export async function api<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  {
    token,
    body,
    rawBody,
    headers = {},
  }: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(body !== undefined || rawBody !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
  })
  const text = await response.text()
  captured(text)
  let parsed: any
  try {
    parsed = text ? JSON.parse(text) : undefined
  } catch {
    parsed = text
  }
  return { status: response.status, body: parsed, text, headers: response.headers }
}

export type MakeBundleOptions = {
  /** Signed issue time (default now). */
  issuedAt?: Date
  /** Signed domain and chain (default the server's). */
  domain?: string
  chainId?: number
  /** Who signs the bundle statement (default this wallet). */
  signer?: TestWallet
}

export class TestWallet {
  token = ''
  keys!: DmtpKeys
  bundle!: KeyBundle
  bundleCid = ''
  readonly account: PrivateKeyAccount
  /** Every message this wallet signed, with its signature (to prove which never left it). */
  readonly signed: { message: string; signature: string }[] = []

  constructor(
    readonly baseUrl: string,
    readonly privateKey: `0x${string}` = generatePrivateKey(),
  ) {
    this.account = privateKeyToAccount(privateKey)
  }

  get address(): string {
    return this.account.address
  }

  signMessage = async (message: string) => {
    const signature = await this.account.signMessage({ message })
    this.signed.push({ message, signature })
    return signature
  }

  async info() {
    return (await api(this.baseUrl, 'GET', '/v1/info')).body as { domain: string; url: string; chainId: number }
  }

  async signInMessage(overrides: Record<string, unknown> = {}): Promise<string> {
    const info = await this.info()
    const { nonce } = (await api(this.baseUrl, 'POST', '/v1/auth/nonce')).body
    return createSignInMessage({
      domain: info.domain,
      address: this.address,
      uri: info.url,
      version: '1',
      chainId: info.chainId,
      nonce,
      issuedAt: new Date().toISOString(),
      statement: 'Sign in to DMTP',
      ...overrides,
    })
  }

  async signIn(): Promise<this> {
    const message = await this.signInMessage()
    const response = await api(this.baseUrl, 'POST', '/v1/auth/verify', {
      body: { message, signature: await this.signMessage(message) },
    })
    if (response.status !== 200) throw new Error(`sign-in failed: ${JSON.stringify(response.body)}`)
    this.token = response.body.token
    return this
  }

  /** A bundle signed as `options` say; `overrides` are applied AFTER signing (to forge). */
  async makeBundle(
    overrides: Partial<KeyBundle> = {},
    keys?: DmtpKeys,
    options: MakeBundleOptions = {},
  ): Promise<{ keys: DmtpKeys; bundle: KeyBundle }> {
    const info = await this.info()
    const fresh = keys ?? (await generateDmtpKeys(crypto))
    const encrypted = await wrapDmtpKeys(crypto, {
      keys: fresh,
      wallet: { address: this.address, signMessage: this.signMessage },
    })
    const bundle = await createKeyBundle(crypto, {
      keys: fresh,
      encrypted,
      address: this.address,
      domain: options.domain ?? info.domain,
      chainId: options.chainId ?? info.chainId,
      signMessage: (options.signer ?? this).signMessage,
      issuedAt: options.issuedAt,
    })
    return { keys: fresh, bundle: { ...bundle, ...overrides } }
  }

  async putBundle(bundle: KeyBundle, token = this.token) {
    return api(this.baseUrl, 'PUT', '/v1/keys', { token, body: bundle })
  }

  /** Signs in if needed and registers fresh keys (a second call rotates them). */
  async setup(options: MakeBundleOptions = {}): Promise<this> {
    if (!this.token) await this.signIn()
    const { keys, bundle } = await this.makeBundle({}, undefined, options)
    const response = await this.putBundle(bundle)
    if (response.status !== 200) throw new Error(`setup failed: ${JSON.stringify(response.body)}`)
    this.keys = keys
    this.bundle = bundle
    this.bundleCid = response.body.cid
    return this
  }

  async openRoom(peer: string): Promise<string> {
    const response = await api(this.baseUrl, 'POST', '/v1/rooms', { token: this.token, body: { peer } })
    if (response.status !== 200) throw new Error(`open room failed: ${JSON.stringify(response.body)}`)
    return response.body.room.id
  }

  /** Encrypts and signs `text` to `peer`; `overrides` are signed, `signingKey` forges the signer. */
  async seal(
    peer: TestWallet,
    text: string,
    overrides: Partial<P2PEnvelope> = {},
    { signingKey = this.keys.ed25519.secretKey }: { signingKey?: Uint8Array } = {},
  ): Promise<P2PEnvelope> {
    const room = overrides.room ?? (await this.openRoom(peer.address))
    const key = await deriveConversationKey(crypto, {
      secretKey: this.keys.x25519.secretKey,
      publicKey: this.keys.x25519.publicKey,
      address: this.address,
      peerPublicKey: peer.keys.x25519.publicKey,
      peerAddress: peer.address,
    })
    const header = {
      v: 1 as const,
      suite: P2P_SUITE as typeof P2P_SUITE,
      id: toBase64Url(crypto.randomBytes(16)),
      room,
      sender: this.address,
      receiver: peer.address,
      timestamp: new Date().toISOString(),
      senderKey: this.bundleCid || toBlock(this.bundle).cid,
      receiverKey: peer.bundleCid,
      ...overrides,
    }
    return (await sealEnvelope(crypto, { header, content: { type: 'text', text }, key, signingKey })) as P2PEnvelope
  }

  async send(peer: TestWallet, text: string, overrides: Partial<P2PEnvelope> = {}) {
    return this.post(await this.seal(peer, text, overrides))
  }

  /** POSTs an envelope as it is (sealed earlier, or forged). */
  async post(envelope: unknown, token = this.token) {
    return api(this.baseUrl, 'POST', '/v1/messages', { token, body: { envelope } })
  }
}

type Waiter = { match: (frame: ServerFrame) => boolean; resolve: (frame: ServerFrame) => void; reject: (error: Error) => void }

/**
 * A raw `/v1/stream` client: every server frame is checked against the protocol schema and kept
 * in `frames`; `next` takes the first frame not taken yet that matches, waiting for it if needed;
 * `closed` resolves with the close code.
 */
export class TestStream {
  readonly frames: ServerFrame[] = []
  readonly closed: Promise<{ code: number; reason: string }>
  private readonly taken = new Set<ServerFrame>()
  private readonly waiters = new Set<Waiter>()

  private constructor(readonly socket: WebSocket) {
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() })
        for (const waiter of this.waiters) waiter.reject(new Error(`stream closed (${code}); frames: ${this.describe()}`))
        this.waiters.clear()
      }),
    )
    // Errors also end in 'close'; without a listener an 'error' event would throw.
    socket.on('error', () => {})
    socket.on('message', (data) => {
      const text = data.toString()
      captured(text)
      const frame = serverFrameSchema.parse(JSON.parse(text))
      this.frames.push(frame)
      for (const waiter of this.waiters) {
        if (waiter.match(frame)) {
          this.waiters.delete(waiter)
          this.taken.add(frame)
          waiter.resolve(frame)
          break
        }
      }
    })
  }

  static async open(url: string): Promise<TestStream> {
    const socket = new WebSocket(url)
    const stream = new TestStream(socket)
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve())
      socket.once('close', (code) => reject(new Error(`could not open the stream (${code})`)))
    })
    return stream
  }

  /** Opens a stream and says hello; resolves once `ready` arrived (and takes it). */
  static async connect(url: string, token: string, cursor?: number): Promise<TestStream> {
    const stream = await TestStream.open(url)
    stream.send({ type: 'hello', token, ...(cursor === undefined ? {} : { cursor }) })
    const ready = await stream.next((frame) => frame.type === 'ready' || frame.type === 'error')
    if (ready.type !== 'ready') throw new Error(`hello failed: ${JSON.stringify(ready)}`)
    return stream
  }

  send(frame: ClientFrame): void {
    this.sendRaw(JSON.stringify(frame))
  }

  sendRaw(text: string): void {
    this.socket.send(text)
  }

  /** The first frame not taken yet that matches, waiting up to `timeoutMs` for it. */
  async next<F extends ServerFrame = ServerFrame>(
    match: (frame: ServerFrame) => boolean = () => true,
    timeoutMs = 5_000,
  ): Promise<F> {
    const found = this.frames.find((frame) => !this.taken.has(frame) && match(frame))
    if (found) {
      this.taken.add(found)
      return found as F
    }
    if (this.socket.readyState === WebSocket.CLOSED) throw new Error(`stream closed; frames: ${this.describe()}`)
    return new Promise<F>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter)
        reject(new Error(`no matching frame within ${timeoutMs} ms; frames: ${this.describe()}`))
      }, timeoutMs)
      const waiter: Waiter = {
        match,
        resolve: (frame) => {
          clearTimeout(timer)
          resolve(frame as F)
        },
        reject: (error) => {
          clearTimeout(timer)
          reject(error)
        },
      }
      this.waiters.add(waiter)
    })
  }

  /** Sends a ping and waits for its pong: every frame the server sent before it has arrived. */
  async barrier(timeoutMs = 5_000): Promise<void> {
    const ref = `barrier-${Math.random().toString(36).slice(2)}`
    this.send({ type: 'ping', ref })
    await this.next((frame) => frame.type === 'pong' && frame.ref === ref, timeoutMs)
  }

  /** Cursors of every `message` frame received so far, in arrival order. */
  cursors(): number[] {
    return this.frames.flatMap((frame) => (frame.type === 'message' ? [frame.cursor] : []))
  }

  close(): void {
    this.socket.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.socket.readyState !== WebSocket.CLOSED) {
      this.socket.close()
      await this.closed
    }
  }

  private describe(): string {
    return JSON.stringify(this.frames.map((frame) => (frame.type === 'message' ? `message#${frame.cursor}` : frame))).slice(
      0,
      2000,
    )
  }
}

/** `text` with one base64url character changed (in the middle, so the encoding stays canonical). */
export function flipChar(text: string, index = Math.floor(text.length / 2)): string {
  const replacement = text[index] === 'A' ? 'B' : 'A'
  return `${text.slice(0, index)}${replacement}${text.slice(index + 1)}`
}
