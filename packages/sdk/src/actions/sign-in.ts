/**
 * Signs in with Ethereum (EIP-4361): a server nonce, a message naming the server's domain and
 * chain, the wallet's signature, a session token back. The token is kept in the client's storage.
 */
import { formatSignInMessage, nonceResponseSchema, signInResponseSchema } from '@dmtp/protocol'
import { serverInfo, sessionKey } from '../_session.js'
import type { DmtpClientBase } from '../client.js'
import type { ApiErrorType } from '../errors.js'

export type SignInReturnType = { token: string; address: string; expiresAt: string }
export type SignInErrorType = ApiErrorType | Error

/**
 * @example
 * import { signIn } from '@dmtp/sdk'
 * const { address } = await signIn(client)
 */
export async function signIn(client: DmtpClientBase): Promise<SignInReturnType> {
  const [wallet, info] = await Promise.all([client.getWallet(), serverInfo(client)])
  const { nonce } = await client.http.request({ method: 'POST', path: '/v1/auth/nonce', schema: nonceResponseSchema })
  const issuedAt = new Date()
  // Formatted only (the server parses it strictly): the parser would weigh on browser bundles.
  const message = formatSignInMessage({
    domain: info.domain,
    address: wallet.address,
    statement: 'Sign in to DMTP. This costs no gas and cannot move funds.',
    uri: info.url,
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
