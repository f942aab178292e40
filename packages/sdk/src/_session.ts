/**
 * Session handling shared by actions: sign in lazily, reuse a stored token, and sign in again once
 * when the server says the token expired or was revoked.
 * @internal
 */
import { ApiError, type ServerInfo, serverInfoResponseSchema } from '@dmtp/protocol'
import { signIn } from './actions/sign-in.js'
import type { DmtpClientBase } from './client.js'
import type { HttpRequest } from './transports/http.js'

const RENEW_BEFORE_MS = 60_000
const SESSION_CODES = new Set(['invalid_token', 'token_expired', 'token_revoked', 'auth_required'])

export async function serverInfo(client: DmtpClientBase): Promise<ServerInfo> {
  client.state.info ??= await client.http.request({ method: 'GET', path: '/v1/info', schema: serverInfoResponseSchema })
  return client.state.info
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
