/**
 * Shared helpers for the protocol package's integration tests: where the published vectors live,
 * the backends every vector runs against, fixtures for envelopes, key bundles, room actors, room
 * events and signed envelopes, and a helper that checks every case of a vector file and reports all
 * failures (with their ids) at once.
 */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  type CryptoBackend,
  createKeyBundle,
  createWebCryptoBackend,
  type DmtpKeys,
  deriveConversationKey,
  type EnvelopeHeader,
  generateDmtpKeys,
  type KeyBundle,
  type MessageContent,
  nobleBackend,
  type PairEnvelope,
  type RoomEvent,
  type RoomEventBody,
  SIGNED_SUITE,
  type SignedEnvelopeHeader,
  sealEnvelope,
  sealSignedEnvelope,
  signRoomEvent,
  toBase64Url,
  toBlock,
  wrapDmtpKeys,
} from '@dmtp/protocol'
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'

/** Every backend; each must pass every vector. */
export const backends: readonly CryptoBackend[] = [nodeCryptoBackend, createWebCryptoBackend(), nobleBackend]

/** The monorepo root: the nearest ancestor of this file whose package.json declares workspaces. */
export const repoRoot = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)))

function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json')
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).workspaces) return dir
    if (path.dirname(dir) === dir) throw new Error(`no package.json with "workspaces" above ${start}`)
  }
}

/** The published vectors, shared beside the repository and never copied into it (see test/vectors/README.md). */
export const vectorsDir = path.resolve(repoRoot, '../shared/vectors')

/**
 * Reads one vector file. A missing folder or file is a failure, never a skip: a vector suite that
 * silently checks nothing is worse than none.
 */
export function loadVectors<T = any>(file: string): T {
  if (!existsSync(vectorsDir)) {
    throw new Error(
      `Test vectors not found: expected the folder ${vectorsDir} (../shared/vectors from the repository root ${repoRoot}). ` +
        'The protocol vector tests load the published vectors from there at test time; restore that folder to run them.',
    )
  }
  const file_ = path.join(vectorsDir, file)
  if (!existsSync(file_)) throw new Error(`Test vector file not found: ${file_}`)
  return JSON.parse(readFileSync(file_, 'utf8')) as T
}

export const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'))
export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

/** Wycheproof test files share this outline; each primitive adds its own group and test fields. */
export type WycheproofFile<Group> = {
  algorithm: string
  numberOfTests: number
  testGroups: (Group & { tests: WycheproofCase[] })[]
}
export type WycheproofCase = { tcId: number; comment: string; flags: string[]; result: 'valid' | 'invalid' | 'acceptable' }

/** Flattens the groups, keeping each case's group beside it. */
export function casesOf<Group, Case extends WycheproofCase>(file: WycheproofFile<Group>): { group: Group; test: Case }[] {
  return file.testGroups.flatMap((group) => group.tests.map((test) => ({ group, test: test as Case })))
}

/**
 * Runs `check` on every case and returns one line per failure (`tcId 42 (comment): reason`), so a
 * single assertion reports every failing case together. `check` returns a reason or undefined.
 */
export async function collectFailures<T>(
  cases: readonly T[],
  id: (item: T) => string,
  check: (item: T) => Promise<string | undefined> | string | undefined,
): Promise<string[]> {
  const failures: string[] = []
  for (const item of cases) {
    let reason: string | undefined
    try {
      reason = await check(item)
    } catch (error) {
      reason = `unexpected throw: ${describeError(error)}`
    }
    if (reason !== undefined) failures.push(`${id(item)}: ${reason}`)
  }
  return failures
}

export const wycheproofId = ({ test }: { test: WycheproofCase }) =>
  `tcId ${test.tcId}${test.comment ? ` (${test.comment})` : ''} [${test.flags.join(',')}]`

/** Settles a promise (or a synchronous throw) into a tagged result. */
export async function settle<T>(run: () => Promise<T> | T): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await run() }
  } catch (error) {
    return { ok: false, error }
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message.split('\n')[0]}`
  return String(error)
}

/** A wallet backed by a fresh private key, shaped for wrapDmtpKeys / createKeyBundle. */
export function testWallet() {
  const account = privateKeyToAccount(generatePrivateKey())
  return { account, address: account.address, signMessage: (message: string) => account.signMessage({ message }) }
}

/** A valid, signed key bundle (eip191-hkdf-aes256gcm scheme). */
export async function makeKeyBundle(backend: CryptoBackend = nodeCryptoBackend): Promise<KeyBundle> {
  const wallet = testWallet()
  const keys = await generateDmtpKeys(backend)
  const encrypted = await wrapDmtpKeys(backend, { keys, wallet })
  return createKeyBundle(backend, {
    keys,
    encrypted,
    address: wallet.address,
    domain: 'localhost:8787',
    chainId: 1,
    signMessage: wallet.signMessage,
  })
}

/** Two parties with DMTP keys, their conversation key, and a valid header from the first to the second. */
export async function makeConversation(backend: CryptoBackend = nodeCryptoBackend) {
  const [alice, bob] = [testWallet(), testWallet()]
  const [aliceKeys, bobKeys] = await Promise.all([generateDmtpKeys(backend), generateDmtpKeys(backend)])
  const key = await deriveConversationKey(backend, {
    secretKey: aliceKeys.x25519.secretKey,
    publicKey: aliceKeys.x25519.publicKey,
    address: alice.address,
    peerPublicKey: bobKeys.x25519.publicKey,
    peerAddress: bob.address,
  })
  const header: EnvelopeHeader = {
    v: 1,
    suite: 'dmtp-p2p-v1',
    id: toBase64Url(backend.randomBytes(16)),
    room: toBase64Url(backend.randomBytes(16)),
    sender: alice.address,
    receiver: bob.address,
    timestamp: new Date().toISOString(),
    senderKey: toBlock({ key: 'alice' }).cid,
    receiverKey: toBlock({ key: 'bob' }).cid,
  }
  return { alice, bob, aliceKeys, bobKeys, key, header }
}

/** A valid, sealed envelope. */
export async function makeEnvelope(backend: CryptoBackend = nodeCryptoBackend): Promise<PairEnvelope> {
  const { aliceKeys, key, header } = await makeConversation(backend)
  return sealEnvelope(backend, { header, content: { type: 'text', text: 'gm' }, key, signingKey: aliceKeys.ed25519.secretKey })
}

/** A room's actor: a fresh wallet address, DMTP keys, and the CID naming its key bundle. */
export type RoomActor = { address: string; keys: DmtpKeys; actorKey: string }

export async function makeRoomActor(backend: CryptoBackend = nodeCryptoBackend): Promise<RoomActor> {
  const { address } = testWallet()
  // Room code never reads the bundle itself, only its CID: a stand-in block names it.
  return { address, keys: await generateDmtpKeys(backend), actorKey: toBlock({ bundle: address }).cid }
}

/** A valid, signed room event of `body`'s type (by a fresh actor in a fresh room unless given). */
export async function makeRoomEvent(
  body: RoomEventBody = { type: 'join' },
  {
    backend = nodeCryptoBackend,
    actor,
    room = toBase64Url(backend.randomBytes(16)),
    at = new Date().toISOString(),
    basis = 0,
  }: { backend?: CryptoBackend; actor?: RoomActor; room?: string; at?: string; basis?: number } = {},
): Promise<RoomEvent> {
  const signer = actor ?? (await makeRoomActor(backend))
  return signRoomEvent(backend, {
    event: {
      v: 1,
      id: toBase64Url(backend.randomBytes(16)),
      room,
      actor: signer.address,
      actorKey: signer.actorKey,
      at,
      basis,
      ...body,
    } as Parameters<typeof signRoomEvent>[1]['event'],
    signingKey: signer.keys.ed25519.secretKey,
  })
}

/** A valid message of a room without E2EE (`dmtp-signed-v1`), its content block, and its sender. */
export async function makeSignedEnvelope(
  backend: CryptoBackend = nodeCryptoBackend,
  {
    content = { type: 'text', text: 'gm' },
    header = {},
  }: { content?: MessageContent; header?: Partial<SignedEnvelopeHeader> } = {},
) {
  const sender = await makeRoomActor(backend)
  const sealed = await sealSignedEnvelope(backend, {
    header: {
      v: 1,
      suite: SIGNED_SUITE,
      id: toBase64Url(backend.randomBytes(16)),
      room: toBase64Url(backend.randomBytes(16)),
      sender: sender.address,
      senderKey: sender.actorKey,
      timestamp: new Date().toISOString(),
      logHead: toBlock({ entry: 'head' }).cid,
      ...header,
    },
    content,
    signingKey: sender.keys.ed25519.secretKey,
  })
  return { ...sealed, sender }
}
