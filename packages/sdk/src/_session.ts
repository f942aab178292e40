/**
 * Session handling shared by actions: sign in lazily, reuse a stored token, and sign in again once
 * when the server says the token expired or was revoked. The server's `/v1/info` is read once per
 * client and checked against the chain pin (`_chain-pin.ts`) before anything uses it, and before
 * a stored token is used: nothing is signed, sent or read for a server that changed its chain.
 * @internal
 */
import { ApiError, type ServerInfo, serverInfoResponseSchema } from '@dmtp/protocol'
import { checkChainPin } from './_chain-pin.js'
import { signIn } from './actions/sign-in.js'
import type { DmtpClientBase } from './client.js'
import type { HttpRequest } from './transports/http.js'

const RENEW_BEFORE_MS = 60_000
const SESSION_CODES = new Set(['invalid_token', 'token_expired', 'token_revoked', 'auth_required'])

const infos = new WeakMap<DmtpClientBase, Promise<ServerInfo>>()

/**
 * The server's `/v1/info`, read once per client and checked against the chain pin (pinned here on
 * first use).
 * @throws {ChainChangedError} when it names another chain (or none) than the pin.
 */
export function serverInfo(client: DmtpClientBase): Promise<ServerInfo> {
  if (client.state.info) return Promise.resolve(client.state.info)
  let info = infos.get(client)
  if (!info) {
    info = client.http.request({ method: 'GET', path: '/v1/info', schema: serverInfoResponseSchema }).then(async (read) => {
      await checkChainPin(client, read)
      client.state.info = read
      return read
    })
    // One request at a time, so two concurrent first uses cannot pin two different answers.
    infos.set(client, info)
    info.catch(() => infos.delete(client))
  }
  return info
}

/** Forgets `/v1/info`, so the next use reads it (and checks the pin) again. */
export function forgetServerInfo(client: DmtpClientBase): void {
  client.state.info = undefined
  infos.delete(client)
}

export function sessionKey(client: DmtpClientBase, address: string): string {
  return `dmtp:session:${client.server}:${address.toLowerCase()}`
}

/** A valid session token, signing in if needed. */
export async function sessionToken(client: DmtpClientBase): Promise<string> {
  const now = Date.now()
  const current = client.state.session
  if (current && current.expiresAt - RENEW_BEFORE_MS > now) return current.token
  const wallet = await client.getWallet()
  const stored = await client.storage.get(sessionKey(client, wallet.address))
  if (stored) {
    // A stored token skips sign-in, which would have read `/v1/info`: check the chain pin anyway.
    await serverInfo(client)
    const parsed = JSON.parse(stored) as { token: string; address: string; expiresAt: number }
    if (parsed.address === wallet.address && parsed.expiresAt - RENEW_BEFORE_MS > now) {
      client.state.session = parsed
      return parsed.token
    }
  }
  return (await signIn(client)).token
}

/** An authenticated request that signs in again once if the session was rejected. */
export async function authedRequest<T>(client: DmtpClientBase, request: Omit<HttpRequest<T>, 'token'>): Promise<T> {
  try {
    return await client.http.request({ ...request, token: await sessionToken(client) })
  } catch (error) {
    if (!(error instanceof ApiError) || !SESSION_CODES.has(error.code)) throw error
    await forgetSession(client)
    return client.http.request({ ...request, token: await sessionToken(client) })
  }
}

export async function forgetSession(client: DmtpClientBase): Promise<void> {
  const wallet = await client.getWallet()
  client.state.session = undefined
  await client.storage.remove(sessionKey(client, wallet.address))
}
