/**
 * Key setup (seed 003). On a wallet's first use: generate DMTP keys, encrypt the private keys to
 * the wallet, have the wallet sign the bundle, upload it. When the wallet already has a bundle on
 * the server (a new device), unlock it with the wallet alone instead. `rotate: true` replaces the
 * keys with new ones; messages made with the old keys stay readable.
 *
 * The bundle is signed for the server this client was configured with (its URL's host), never for
 * the domain `/v1/info` names: a server naming another domain is refused before anything is signed,
 * as in sign-in. Existing keys are checked like anyone's before they are unlocked (a rolled-back
 * bundle is refused), and a new bundle is remembered as this wallet's newest.
 */
import {
  ApiError,
  BaseError,
  createKeyBundle,
  generateDmtpKeys,
  keyBundleResponseSchema,
  putKeyBundleResponseSchema,
  toBlock,
  type WalletScheme,
  wrapDmtpKeys,
} from '@dmtp/protocol'
import { rememberNewest } from '../_key-history.js'
import { ownKeys } from '../_keyring.js'
import { authedRequest, serverInfo } from '../_session.js'
import type { DmtpClientBase } from '../client.js'
import type { KeyBundleRejectedErrorType } from '../errors.js'
import { supportsWalletEncryption } from '../wallets/resolve-wallet.js'
import { checkServedBundle } from './get-key-bundle.js'
import { fetchPage, type MigrateParameters, type MigrateStop, migrate } from './migrate.js'
import { SignInDomainMismatchError, type SignInDomainMismatchErrorType } from './sign-in.js'

export type SetupParameters = {
  /** How to protect the private keys; defaults to `eth_decrypt` when the wallet supports it. */
  scheme?: WalletScheme | undefined
  /** Replace existing keys with new ones. */
  rotate?: boolean | undefined
  /** Progress callback for UIs: each step as it starts. */
  onProgress?: ((step: SetupStep) => void) | undefined
  /** Progress of making relayed messages end-to-end, when some were waiting (pattern β). */
  onMigrationProgress?: MigrateParameters['onProgress']
}

export type SetupStep = 'checking' | 'unlocking' | 'generating' | 'encrypting' | 'signing' | 'uploading' | 'migrating' | 'done'

export type SetupReturnType = {
  address: string
  cid: string
  /** True when new keys were made; false when existing keys were unlocked. */
  created: boolean
  /** The bundle this one replaced, on rotation. */
  replaced: string | null
  scheme: WalletScheme
  /**
   * Messages sent to this wallet before it set up, now end-to-end (or why not). With `error`,
   * `remaining` is what was known to wait (0 when even the listing failed): `migrate()` resumes.
   * `stopped` says why migration ended with messages left (see `MigrateStop`).
   */
  migration: { migrated: number; remaining: number; error?: string; stopped?: MigrateStop }
}

export type SetupErrorType = SignInDomainMismatchErrorType | KeyBundleRejectedErrorType | ApiError | Error

/**
 * @throws {SignInDomainMismatchError} when `/v1/info` names another domain or origin than the
 * configured server URL (nothing was signed).
 * @throws {KeyBundleRejectedError} when the wallet's existing bundle fails the client's checks.
 * @example
 * import { setup } from '@dmtp/sdk'
 * const { cid, created } = await setup(client)
 */
export async function setup(
  client: DmtpClientBase,
  { scheme, rotate = false, onProgress, onMigrationProgress }: SetupParameters = {},
): Promise<SetupReturnType> {
  const [wallet, crypto, info] = await Promise.all([client.getWallet(), client.getCrypto(), serverInfo(client)])
  const configured = new URL(client.server)
  const claimedOrigin = URL.canParse(info.url) ? new URL(info.url).origin : info.url
  if (info.domain !== configured.host || claimedOrigin !== configured.origin) {
    throw new SignInDomainMismatchError({ configured: configured.origin, claimed: { domain: info.domain, url: info.url } })
  }
  onProgress?.('checking')
  if (!rotate) {
    const existing = await client.http
      .request({ method: 'GET', path: `/v1/keys/${wallet.address}`, schema: keyBundleResponseSchema })
      .catch((error) => {
        if (error instanceof ApiError && error.code === 'key_not_found') return undefined
        throw error
      })
    if (existing) {
      onProgress?.('unlocking')
      const { bundle } = await checkServedBundle(client, wallet.address, existing)
      await ownKeys(client, existing.cid)
      client.state.currentCid = existing.cid
      const migration = await migrateWaiting(client, onProgress, onMigrationProgress)
      onProgress?.('done')
      return {
        address: wallet.address,
        cid: existing.cid,
        created: false,
        replaced: null,
        scheme: bundle.bundle.DMTPpriKey.scheme,
        migration,
      }
    }
  }
  onProgress?.('generating')
  const keys = await generateDmtpKeys(crypto)
  onProgress?.('encrypting')
  const chosen = scheme ?? ((await supportsWalletEncryption(wallet)) ? 'x25519-xsalsa20-poly1305' : 'eip191-hkdf-aes256gcm')
  const encrypted = await wrapDmtpKeys(crypto, { keys, wallet, scheme: chosen })
  onProgress?.('signing')
  const bundle = await createKeyBundle(crypto, {
    keys,
    encrypted,
    address: wallet.address,
    domain: configured.host,
    chainId: info.chainId,
    signMessage: (message) => wallet.signMessage(message),
  })
  onProgress?.('uploading')
  const result = await authedRequest(client, {
    method: 'PUT',
    path: '/v1/keys',
    body: bundle,
    schema: putKeyBundleResponseSchema,
  })
  const cid = toBlock(bundle, crypto.sha256).cid
  if (result.cid !== cid) {
    throw new ApiError({
      code: 'upstream_failure',
      message: `The server says it stored the key bundle as ${result.cid}, but its CID is ${cid}.`,
    })
  }
  client.state.ownKeys.set(cid, Promise.resolve(keys))
  client.state.currentCid = cid
  client.state.currentOf.delete(wallet.address)
  await rememberNewest(client, { address: wallet.address, cid, bundle })
  const migration = await migrateWaiting(client, onProgress, onMigrationProgress)
  onProgress?.('done')
  return { address: wallet.address, cid, created: true, replaced: result.replaced, scheme: chosen, migration }
}

/** Pattern β: migrates what was relayed to this wallet before it had keys. Never fails setup. */
async function migrateWaiting(
  client: DmtpClientBase,
  onProgress: SetupParameters['onProgress'],
  onMigrationProgress: SetupParameters['onMigrationProgress'],
): Promise<SetupReturnType['migration']> {
  let waiting = 0
  let done = 0
  try {
    waiting = (await fetchPage(client, undefined, 1)).remaining
    if (waiting === 0) return { migrated: 0, remaining: 0 }
    onProgress?.('migrating')
    const result = await migrate(client, {
      onProgress: (progress) => {
        done = progress.done
        onMigrationProgress?.(progress)
      },
    })
    const migrated = result.migrated + result.alreadyMigrated
    return result.stopped
      ? { migrated, remaining: result.remaining, stopped: result.stopped }
      : { migrated, remaining: result.remaining }
  } catch (error) {
    // Interrupted (offline, server restarting): what was uploaded stays migrated; `migrate()` resumes.
    const reason = error instanceof BaseError ? error.shortMessage : error instanceof Error ? error.message : String(error)
    return { migrated: done, remaining: Math.max(0, waiting - done), error: reason }
  }
}
