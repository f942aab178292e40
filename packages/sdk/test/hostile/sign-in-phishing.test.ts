/**
 * Sign-in cannot be phished: the SIWE domain and URI a client signs come from the server URL it
 * was configured with, never from `/v1/info`. A real server configured under another public URL,
 * and a real relaying proxy in front of a real server, each try to obtain a signature (or a
 * session) for a server the user did not choose.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { ApiError, parseSignInMessage } from '@dmtp/protocol'
import { generatePrivateKey } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { rowCounts } from '../../../server/test/_util.js'
import { createClient, type DmtpWallet, privateKeyWallet, SignInDomainMismatchError } from '../../src/index.js'
import { DIALECTS, TestServer } from '../_util.js'
import { attack } from './attack.js'

/** A private-key wallet that records every message it is asked to sign. */
function recordingWallet(): DmtpWallet & { signed: string[] } {
  const wallet = privateKeyWallet(generatePrivateKey())
  const signed: string[] = []
  const signMessage = (message: string) => {
    signed.push(message)
    return wallet.signMessage(message)
  }
  return { ...wallet, signed, signMessage }
}

/**
 * A phishing site: a real HTTP server on its own port that relays every request to a real DMTP
 * server, optionally lying in `/v1/info`, and keeps the sign-in bodies it relays.
 */
class RelayingProxy implements AsyncDisposable {
  target = ''
  /** Rewrites the relayed `/v1/info` answer; unset, it is passed on as the server gave it. */
  rewriteInfo: ((info: Record<string, unknown>) => Record<string, unknown>) | undefined
  readonly relayedSignIns: { message: string; signature: string }[] = []
  private readonly server = http.createServer((request, response) => void this.relay(request, response))

  static async start(target: string): Promise<RelayingProxy> {
    const proxy = new RelayingProxy()
    proxy.target = target
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve))
    return proxy
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  private async relay(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)
    if (request.url === '/v1/auth/verify') this.relayedSignIns.push(JSON.parse(body.toString('utf8')))
    const upstream = await fetch(`${this.target}${request.url}`, {
      method: request.method ?? 'GET',
      headers: request.headers['content-type'] ? { 'content-type': request.headers['content-type'] } : {},
      ...(body.byteLength > 0 ? { body } : {}),
    })
    let text = await upstream.text()
    if (request.url === '/v1/info' && this.rewriteInfo) text = JSON.stringify(this.rewriteInfo(JSON.parse(text)))
    response.writeHead(upstream.status, { 'content-type': 'application/json' })
    response.end(text)
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.server.closeAllConnections()
    await new Promise((resolve) => this.server.close(resolve))
  }
}

async function freePort(): Promise<number> {
  const probe = http.createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  return port
}

describe.each(DIALECTS)('signIn against a server that is not the one configured (%s)', (dialect) => {
  let server: TestServer
  beforeAll(async () => {
    server = await TestServer.create({ dialect })
  })
  afterAll(async () => {
    await server[Symbol.asyncDispose]()
  })

  test('default: the message names the configured server’s host and origin', async () => {
    const wallet = recordingWallet()
    const client = createClient({ server: `${server.url}/`, wallet })
    const { address } = await client.signIn()
    expect(address).toBe(wallet.address)
    expect(wallet.signed).toHaveLength(1)
    const url = new URL(server.url)
    expect(parseSignInMessage(wallet.signed[0] as string)).toMatchObject({ domain: url.host, uri: url.origin, chainId: 31_337 })
  })

  // Refused before the wallet signs.
  attack('a server whose /v1/info names another domain', 'at once', async () => {
    await using elsewhere = await TestServer.create({
      dialect,
      configure: (c) => {
        c.service.publicUrl = 'https://dmtp.example'
      },
    })
    const configured = `http://localhost:${elsewhere.server.port}`
    const wallet = recordingWallet()
    const client = createClient({ server: configured, wallet })
    const error = await client.signIn().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SignInDomainMismatchError)
    expect((error as SignInDomainMismatchError).shortMessage).toBe(
      `The server at ${configured} says it is https://dmtp.example (dmtp.example); sign-in refused, nothing was signed.`,
    )
    expect((error as SignInDomainMismatchError).claimed).toEqual({ domain: 'dmtp.example', url: 'https://dmtp.example' })
    // An action that signs in on the way is refused the same way.
    await expect(client.rooms.list()).rejects.toBeInstanceOf(SignInDomainMismatchError)
    expect(wallet.signed).toEqual([])
    // Not even a nonce was asked for.
    expect(await rowCounts(elsewhere, ['auth_nonces', 'sessions'])).toEqual({ auth_nonces: 0, sessions: 0 })
  })

  // Refused before the wallet signs.
  attack("a sign-in relay passing the real server's /v1/info on", 'at once', async () => {
    await using proxy = await RelayingProxy.start(server.url)
    const wallet = recordingWallet()
    const before = await rowCounts(server, ['auth_nonces', 'sessions'])
    const error = await createClient({ server: proxy.url, wallet })
      .signIn()
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SignInDomainMismatchError)
    expect(wallet.signed).toEqual([])
    expect(proxy.relayedSignIns).toEqual([])
    expect(await rowCounts(server, ['auth_nonces', 'sessions'])).toEqual(before)
  })

  // It gets a message for itself, which the real server refuses.
  attack('a sign-in relay claiming to be the server', 'at once', async () => {
    await using proxy = await RelayingProxy.start(server.url)
    const relay = new URL(proxy.url)
    proxy.rewriteInfo = (info) => ({ ...info, domain: relay.host, url: relay.origin })
    const wallet = recordingWallet()
    const before = await rowCounts(server, ['sessions'])
    const error = await createClient({ server: proxy.url, wallet })
      .signIn()
      .catch((e: unknown) => e)
    // The signature exists, but only for the relay's own domain: the real server will not take it.
    expect(parseSignInMessage(wallet.signed[0] as string)).toMatchObject({ domain: relay.host, uri: relay.origin })
    expect(error).toBeInstanceOf(ApiError)
    expect({ code: (error as ApiError).code, status: (error as ApiError).status }).toEqual({
      code: 'siwe_domain_mismatch',
      status: 401,
    })
    // The attacker replays what it captured straight to the real server: refused again.
    const [captured] = proxy.relayedSignIns
    const replay = await fetch(`${server.url}/v1/auth/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(captured),
    })
    expect(replay.status).toBe(401)
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe('siwe_domain_mismatch')
    expect(await rowCounts(server, ['sessions'])).toEqual(before)
  })

  // Refused before the wallet signs.
  attack('a server whose public URL is the same host over another scheme', 'at once', async () => {
    const port = await freePort()
    await using elsewhere = await TestServer.create({
      dialect,
      configure: (c) => {
        c.service.port = port
        c.service.publicUrl = `https://localhost:${port}`
      },
    })
    const wallet = recordingWallet()
    const client = createClient({ server: `http://localhost:${port}`, wallet })
    await expect(client.signIn()).rejects.toBeInstanceOf(SignInDomainMismatchError)
    expect(wallet.signed).toEqual([])
    expect(await rowCounts(elsewhere, ['auth_nonces', 'sessions'])).toEqual({ auth_nonces: 0, sessions: 0 })
  })
})
