/** Revokes the current session token on the server and forgets it locally. */
import { forgetSession } from '../_session.js'
import type { DmtpClientBase } from '../client.js'

export type SignOutErrorType = Error

/**
 * @example
 * import { signOut } from '@dmtp/sdk'
 * await signOut(client)
 */
export async function signOut(client: DmtpClientBase): Promise<void> {
  const token = client.state.session?.token
  client.state.socket?.close()
  if (token) await client.http.request({ method: 'POST', path: '/v1/auth/revoke', token }).catch(() => undefined)
  await forgetSession(client)
}
