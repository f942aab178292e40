/**
 * Private-group end-to-end encryption on the client (docs/private-groups.md §2–7), measured
 * beside Signal's sender keys in the same run (`signal-sender-keys.ts`): what a new epoch costs
 * the member who makes it, what adding a member costs, and group messages sealed and opened.
 *
 * - rotate: `createRoomKey`, `createKeyDistribution` to every member at the log's head (the
 *   rotator included; pages of 1,024 wraps, each signed) and `signRotationIntent`. Warm: the
 *   client's {@link WrapKeyCache} holds every pair wrap key, as after any earlier rotation, so a
 *   wrap is one AES-GCM call. Cold: an empty cache and key bundles the client has never seen, so
 *   every wrap starts with an X25519 and its key imports.
 * - add member: a member joins a 1,000-member room; the current epoch's key is wrapped to it
 *   alone (one page of one wrap, signed). Each repetition is another newcomer, so its pair key
 *   is never cached.
 * - create: a 250-member room's first epoch (fromEpoch 0), cold.
 * - encrypt / decrypt: `sealGroupEnvelope` and `openGroupEnvelope` (signature check, then
 *   decryption) of text content whose canonical form is 1 KiB, one after another; and their
 *   floor: the two node:crypto calls alone (Ed25519 over the envelope's signing bytes, AES-GCM of
 *   the padded content), with nothing of the format around them.
 *
 * Memberships are real `RoomLogState` replays of signed events (`_private-room.ts`), built
 * before timing; reading the members at the head (`logHeadMembers`) is timed on its own.
 * Times are wall clock of one thread doing nothing else (node:crypto runs these inline).
 */
import {
  createKeyDistribution,
  createRoomKey,
  encodeCanonical,
  GROUP_SUITE,
  type GroupEnvelope,
  groupEnvelopeSigningBytes,
  type KeyDistribution,
  keyDeliveries,
  logHeadMembers,
  type MessageContent,
  openGroupEnvelope,
  openKeyDelivery,
  padPlaintext,
  type RoomKey,
  sealGroupEnvelope,
  signRotationIntent,
  toBase64Url,
  WrapKeyCache,
  type WrapParty,
} from '@dmtp/protocol'
import { nodeCryptoBackend as backend } from '@dmtp/protocol/node'
import { cpuMs, percentile, round } from '../_stats.js'
import { type Member, makeMember, makeRoom, type Room, rekeyed } from './_private-room.js'
import { libsignalVersion, type SignalSenderKeysResult, signalSenderKeys } from './signal-sender-keys.js'

export type GroupKeysOptions = {
  /** Timed repetitions of each figure (the median is reported), after warm-ups. */
  repetitions: number
  /** Messages per encrypt / decrypt repetition. */
  messages: number
  /** Bytes of the canonical content of each message. */
  contentBytes: number
}

/** One timed figure: the median, every run, and the process CPU of the median run. */
export type Timed = { ms: number; runsMs: number[]; cpuMs: number }

export type GroupKeysResult = {
  rotate1000: Timed & { pages: number; bytes: number }
  rotate1000Cold: Timed
  rotate10000: Timed & { pages: number; bytes: number }
  /** The parts of a warm 1,000 rotation, timed apart in one extra run. */
  rotate1000Parts: { roomKeyMs: number; distributionMs: number; intentMs: number; logHeadMembersMs: number }
  addMember1000: Timed & { members: number }
  create250: Timed
  contentBytes: number
  paddedBytes: number
  /** A sealed envelope as JSON (what the server stores and relays). */
  envelopeBytes: number
  encryptPerSecond: number
  encryptRunsPerSecond: number[]
  decryptPerSecond: number
  decryptRunsPerSecond: number[]
  /** Ed25519 signing and AES-GCM of the same sizes alone: what sealing costs at least in node:crypto. */
  encryptFloorPerSecond: number
  /** Building the 1,000- and 10,000-member logs (not timed in any figure), ms. */
  setupMs: number
}

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  )

const distributorOf = (owner: Member) => ({
  ...owner.party,
  secretKey: owner.keys.x25519.secretKey,
  signingKey: owner.keys.ed25519.secretKey,
})

/** A new epoch: room key, distribution pages, signed rotation intent. */
async function newEpoch(
  room: Room,
  { fromEpoch, recipients, cache }: { fromEpoch: number; recipients: readonly WrapParty[]; cache: WrapKeyCache },
) {
  const { logHead, members } = logHeadMembers(room.state)
  const started = performance.now()
  const cpuStarted = cpuMs()
  const roomKey = await createRoomKey(backend, { room: room.room, epoch: fromEpoch + 1 })
  const keyed = performance.now()
  const pages = await createKeyDistribution(backend, {
    roomKey,
    distributor: distributorOf(room.owner),
    recipients,
    members,
    logHead,
    cache,
  })
  const distributed = performance.now()
  const intent = await signRotationIntent(backend, {
    intent: {
      v: 1,
      room: room.room,
      fromEpoch,
      toEpoch: fromEpoch + 1,
      keyId: roomKey.keyId,
      actor: room.owner.address,
      actorKey: room.owner.party.keyCid,
      logHead: logHead.cid,
      logIndex: logHead.index,
      at: new Date().toISOString(),
    },
    signingKey: room.owner.keys.ed25519.secretKey,
  })
  const done = performance.now()
  return {
    ms: done - started,
    cpuMs: cpuMs() - cpuStarted,
    parts: { roomKeyMs: keyed - started, distributionMs: distributed - keyed, intentMs: done - distributed },
    roomKey,
    pages,
    bytes: JSON.stringify(pages).length + JSON.stringify(intent).length,
  }
}

function summary(runs: { ms: number; cpuMs: number }[]): Timed {
  const ms = median(runs.map((run) => run.ms))
  const middle = runs.find((run) => run.ms === ms) as { cpuMs: number }
  return { ms: round(ms, 2), runsMs: runs.map((run) => round(run.ms, 2)), cpuMs: round(middle.cpuMs, 2) }
}

/** A member opens its delivery of a page: the records measured are real ones. */
async function checkDelivery(room: Room, roomKey: RoomKey, pages: KeyDistribution[], member: Member) {
  const { logHead, members } = logHeadMembers(room.state)
  const page = pages.find((each) => each.recipients.some((wrap) => wrap.recipient === member.address))
  const delivery = page && keyDeliveries(backend.sha256, page).find((each) => each.recipient.recipient === member.address)
  if (!delivery) throw new Error(`no delivery for ${member.address}`)
  const opened = await openKeyDelivery(backend, {
    delivery,
    distributor: { ed25519: room.owner.keys.ed25519.publicKey, x25519: room.owner.keys.x25519.publicKey },
    recipient: { ...member.party, secretKey: member.keys.x25519.secretKey },
    members,
    logHead,
  })
  if (opened.keyId !== roomKey.keyId) throw new Error('the delivery opened to another key')
}

/** Text content whose canonical encoding is exactly `bytes` long. */
function contentOf(bytes: number): MessageContent {
  const overhead = encodeCanonical({ type: 'text', text: '' }).length
  return { type: 'text', text: 'a'.repeat(bytes - overhead) }
}

export async function groupKeys({ repetitions, messages, contentBytes }: GroupKeysOptions): Promise<GroupKeysResult> {
  const setupStarted = performance.now()
  const room = await makeRoom(1_000)
  const big = await makeRoom(10_000)
  const setupMs = performance.now() - setupStarted
  let epoch = 0

  // Warm rotations of 1,000: the first run fills the cache (and is the warm-up with the next).
  const cache = new WrapKeyCache()
  const parties = room.members.map((member) => member.party)
  const warm: Awaited<ReturnType<typeof newEpoch>>[] = []
  for (let i = 0; i < repetitions + 2; i++) warm.push(await newEpoch(room, { fromEpoch: epoch++, recipients: parties, cache }))
  const lastWarm = warm.at(-1) as (typeof warm)[number]
  await checkDelivery(room, lastWarm.roomKey, lastWarm.pages, room.members[500] as Member)
  const timedWarm = warm.slice(2)
  const headStarted = performance.now()
  logHeadMembers(room.state)
  const logHeadMembersMs = performance.now() - headStarted
  const parts = lastWarm.parts

  // Cold rotations of 1,000: new bundles each run, a new cache.
  const cold: { ms: number; cpuMs: number }[] = []
  for (let i = 0; i < repetitions + 1; i++) {
    const fresh = [room.owner, ...rekeyed(room.members.slice(1))]
    const run = await newEpoch(room, { fromEpoch: epoch++, recipients: fresh.map((m) => m.party), cache: new WrapKeyCache() })
    if (i > 0) cold.push(run)
  }

  // Warm rotations of 10,000.
  const bigCache = new WrapKeyCache()
  const bigParties = big.members.map((member) => member.party)
  const bigRuns: Awaited<ReturnType<typeof newEpoch>>[] = []
  for (let i = 0; i < repetitions + 2; i++)
    bigRuns.push(await newEpoch(big, { fromEpoch: i, recipients: bigParties, cache: bigCache }))
  const lastBig = bigRuns.at(-1) as (typeof bigRuns)[number]
  await checkDelivery(big, lastBig.roomKey, lastBig.pages, big.members[9_999] as Member)

  // Adding one member to the 1,000-member room at its current epoch (the last warm rotation's
  // key is current: the cold runs' keys were made for members with other bundles).
  const current = lastWarm.roomKey
  const adds: { ms: number; cpuMs: number }[] = []
  for (let i = 0; i < repetitions + 2; i++) {
    const newcomer = makeMember()
    await room.join(newcomer)
    const { logHead, members } = logHeadMembers(room.state)
    const started = performance.now()
    const cpuStarted = cpuMs()
    const pages = await createKeyDistribution(backend, {
      roomKey: current,
      distributor: distributorOf(room.owner),
      recipients: [newcomer.party],
      members,
      logHead,
      cache,
    })
    const run = { ms: performance.now() - started, cpuMs: cpuMs() - cpuStarted }
    if (i >= 2) adds.push(run)
    if (i === 0) await checkDelivery(room, current, pages, newcomer)
  }

  // A 250-member room's first epoch, cold.
  const small = await makeRoom(250)
  const creates: { ms: number; cpuMs: number }[] = []
  for (let i = 0; i < repetitions + 1; i++) {
    const fresh = [small.owner, ...rekeyed(small.members.slice(1))]
    const run = await newEpoch(small, { fromEpoch: 0, recipients: fresh.map((m) => m.party), cache: new WrapKeyCache() })
    if (i > 0) creates.push(run)
  }

  // Group messages from the Owner, opened by another member.
  const content = contentOf(contentBytes)
  const signingKey = room.owner.keys.ed25519.secretKey
  const senderPublicKey = room.owner.keys.ed25519.publicKey
  const logHead = (room.state.head as { cid: string }).cid
  const seal = () =>
    sealGroupEnvelope(backend, {
      header: {
        v: 1,
        suite: GROUP_SUITE,
        id: toBase64Url(backend.randomBytes(16)),
        room: room.room,
        epoch: current.epoch,
        sender: room.owner.address,
        senderKey: room.owner.party.keyCid,
        timestamp: new Date().toISOString(),
        logHead,
      },
      content,
      roomKey: current,
      signingKey,
    })
  const messageRun = async () => {
    const envelopes: GroupEnvelope[] = []
    let started = performance.now()
    for (let i = 0; i < messages; i++) envelopes.push(await seal())
    const encryptSeconds = (performance.now() - started) / 1000
    started = performance.now()
    for (const envelope of envelopes) {
      // Each open in its own turn of the event loop, as frames arrive: node:crypto then checks
      // the signature inline (it sends a check to the threadpool when others ran this turn).
      await new Promise(setImmediate)
      const opened = await openGroupEnvelope(backend, { envelope, roomKey: current, senderPublicKey })
      if (opened.type !== 'text') throw new Error('openGroupEnvelope returned other content')
    }
    const decryptSeconds = (performance.now() - started) / 1000
    // The floor: the same two calls on bytes of the same sizes, one after another.
    const signingBytes = groupEnvelopeSigningBytes(envelopes[0] as GroupEnvelope)
    const padded = padPlaintext(encodeCanonical(content))
    const aad = new Uint8Array(256)
    started = performance.now()
    for (let i = 0; i < messages; i++) {
      await backend.aesGcmEncrypt(current.messageKey, backend.randomBytes(12), padded, aad)
      await backend.ed25519Sign(signingKey, signingBytes)
    }
    const floorSeconds = (performance.now() - started) / 1000
    return {
      encrypt: messages / encryptSeconds,
      decrypt: messages / decryptSeconds,
      floor: messages / floorSeconds,
      envelope: envelopes[0] as GroupEnvelope,
    }
  }
  const encryptRuns: number[] = []
  const decryptRuns: number[] = []
  const floorRuns: number[] = []
  let envelope = (await messageRun()).envelope
  for (let i = 0; i < repetitions; i++) {
    const run = await messageRun()
    encryptRuns.push(run.encrypt)
    decryptRuns.push(run.decrypt)
    floorRuns.push(run.floor)
    envelope = run.envelope
  }

  return {
    rotate1000: { ...summary(timedWarm), pages: lastWarm.pages.length, bytes: lastWarm.bytes },
    rotate1000Cold: summary(cold),
    rotate10000: { ...summary(bigRuns.slice(2)), pages: lastBig.pages.length, bytes: lastBig.bytes },
    rotate1000Parts: {
      roomKeyMs: round(parts.roomKeyMs, 3),
      distributionMs: round(parts.distributionMs, 2),
      intentMs: round(parts.intentMs, 3),
      logHeadMembersMs: round(logHeadMembersMs, 2),
    },
    addMember1000: { ...summary(adds), members: room.members.length },
    create250: summary(creates),
    contentBytes: encodeCanonical(content).length,
    paddedBytes: Math.round((envelope.messages.length * 3) / 4) - 16,
    envelopeBytes: JSON.stringify(envelope).length,
    encryptPerSecond: Math.round(median(encryptRuns)),
    encryptRunsPerSecond: encryptRuns.map(Math.round),
    decryptPerSecond: Math.round(median(decryptRuns)),
    decryptRunsPerSecond: decryptRuns.map(Math.round),
    encryptFloorPerSecond: Math.round(median(floorRuns)),
    setupMs: round(setupMs, 0),
  }
}

export type PrivateGroupBench = { ours: GroupKeysResult; signal: SignalSenderKeysResult }

export type PrivateGroupOptions = {
  repetitions: number
  messages: number
  log?: ((line: string) => void) | undefined
}

/** Ours, then Signal's sender keys for 1,000 members, in this process: 1 KiB messages for both. */
export async function privateGroupBench({ repetitions, messages, log }: PrivateGroupOptions): Promise<PrivateGroupBench> {
  log?.('private groups: new epochs of 1,000 and 10,000 members, adding a member, 1 KiB messages…')
  const ours = await groupKeys({ repetitions, messages, contentBytes: 1024 })
  log?.(`private groups: Signal's sender keys (libsignal-client ${libsignalVersion()}), 1,000 sessions…`)
  const signal = await signalSenderKeys({ members: 1_000, messages, messageBytes: 1024, repetitions })
  return { ours, signal }
}
