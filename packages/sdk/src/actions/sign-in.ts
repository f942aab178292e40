/**
 * Signs in with Ethereum (EIP-4361): a server nonce, a message naming the server, the wallet's
 * signature, a session token back. The token is kept in the client's storage.
 *
 * The domain and URI signed come from the server URL this client was configured with, never from
 * what the server says about itself: a server (or a man in the middle) naming another domain in
 * `/v1/info` would be relaying the signature to that domain, so sign-in stops before the wallet
 * is asked for anything.
 */
import { BaseError, formatSignInMessage, nonceResponseSchema, signInResponseSchema } from '@dmtp/protocol'
import { serverInfo, sessionKey } from '../_session.js'
import type { DmtpClientBase } from '../client.js'
import type { ApiErrorType } from '../errors.js'

export type SignInReturnType = { token: string; address: string; expiresAt: string }
export type SignInErrorType = ApiErrorType | SignInDomainMismatchErrorType | Error

/**
 * @throws {SignInDomainMismatchError} when `/v1/info` names another domain or origin than the
 * configured server URL (nothing was signed).
 * @example
 * import { signIn } from '@dmtp/sdk'
 * const { address } = await signIn(client)
 */
export async function signIn(client: DmtpClientBase): Promise<SignInReturnType> {
  const configured = new URL(client.server)
  const info = await serverInfo(client)
  const claimedOrigin = URL.canParse(info.url) ? new URL(info.url).origin : info.url
  if (info.domain !== configured.host || claimedOrigin !== configured.origin) {
    throw new SignInDomainMismatchError({ configured: configured.origin, claimed: { domain: info.domain, url: info.url } })
  }
  const wallet = await client.getWallet()
  const { nonce } = await client.http.request({ method: 'POST', path: '/v1/auth/nonce', schema: nonceResponseSchema })
  const issuedAt = new Date()
  // Formatted only (the server parses it strictly): the parser would weigh on browser bundles.
  const message = formatSignInMessage({
    domain: configured.host,
    address: wallet.address,
    statement: 'Sign in to DMTP. This costs no gas and cannot move funds.',
    uri: configured.origin,
    version: '1',
    chainId: info.chainId,
    nonce,
    issuedAt: issuedAt.toISOString(),
    expirationTime: new Date(issuedAt.getTime() + 10 * 60_000).toISOString(),
  })
  const signature = await wallet.signMessage(message)
  const result = await client.http.request({
    method: 'POST',
    path: '/v1/auth/verify',
    body: { message, signature },
    schema: signInResponseSchema,
  })
  const session = { token: result.token, address: result.address, expiresAt: Date.parse(result.expiresAt) }
  client.state.session = session
  await client.storage.set(sessionKey(client, wallet.address), JSON.stringify(session))
  return result
}

export type SignInDomainMismatchErrorType = SignInDomainMismatchError & { name: 'SignInDomainMismatchError' }

/**
 * The server names another domain or origin for itself than the URL this client was configured
 * with: signing in would hand a signature for that domain to whoever answers here.
 */
export class SignInDomainMismatchError extends BaseError {
  override name = 'SignInDomainMismatchError'
  readonly configured: string
  readonly claimed: { domain: string; url: string }
  constructor({ configured, claimed }: { configured: string; claimed: { domain: string; url: string } }) {
    super(`The server at ${configured} says it is ${claimed.url} (${claimed.domain}); sign-in refused, nothing was signed.`, {
      metaMessages: [
        'A server that names another domain may be relaying your signature to it (phishing).',
        'If you run this server, set DMTP_PUBLIC_URL to the URL its clients use.',
      ],
    })
    this.configured = configured
    this.claimed = claimed
  }
}
