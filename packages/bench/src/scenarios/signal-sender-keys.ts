/**
 * The peer of the private-group benchmarks (`group-keys.ts`): Signal's sender keys, measured with
 * `@signalapp/libsignal-client` (the Rust library Signal's apps run, through its Node bridge) in
 * the same process and run.
 *
 * - `skdm`: what giving a group a new sender key costs the sender in Signal: create a
 *   SenderKeyDistributionMessage for a new distribution id, then encrypt it once per member
 *   through each member's established 1:1 session (`signalEncrypt`). The sessions are set up
 *   before timing (PQXDH from a prekey bundle, the member's reply received, so each encrypt is a
 *   symmetric ratchet step and no prekey message). The same again through sealed sender
 *   (`sealedSenderEncryptMessage`, as Signal's clients send it) is timed beside it.
 * - `encrypt` / `decrypt`: `groupEncrypt` / `groupDecrypt` of 1 KiB messages under one sender
 *   key (a chain step, AES-256-CBC, HMAC and an XEdDSA signature, checked on decrypt).
 *
 * Stores are in-memory maps holding the record objects, the cheapest store a client can have.
 */
import { randomInt } from 'node:crypto'
import { createRequire } from 'node:module'
import {
  Aci,
  type Direction,
  groupDecrypt,
  groupEncrypt,
  IdentityChange,
  IdentityKeyPair,
  IdentityKeyStore,
  KEMKeyPair,
  KyberPreKeyRecord,
  KyberPreKeyStore,
  PreKeyBundle,
  PreKeyRecord,
  PreKeySignalMessage,
  PreKeyStore,
  PrivateKey,
  ProtocolAddress,
  type PublicKey,
  processPreKeyBundle,
  processSenderKeyDistributionMessage,
  SenderCertificate,
  SenderKeyDistributionMessage,
  type SenderKeyRecord,
  SenderKeyStore,
  ServerCertificate,
  type SessionRecord,
  SessionStore,
  SignalMessage,
  SignedPreKeyRecord,
  SignedPreKeyStore,
  sealedSenderEncryptMessage,
  signalDecrypt,
  signalDecryptPreKey,
  signalEncrypt,
  type Uuid,
} from '@signalapp/libsignal-client'
import { cpuMs, percentile, round } from '../_stats.js'

export type SignalSenderKeysOptions = {
  /** Members the sender key is distributed to (each one 1:1 session). */
  members: number
  /** Messages per encrypt / decrypt repetition. */
  messages: number
  /** Plaintext bytes per message. */
  messageBytes: number
  /** Timed repetitions of each figure (the median is reported), after one warm-up. */
  repetitions: number
}

export type SignalSenderKeysResult = {
  version: string
  members: number
  /** Setting up the 1:1 sessions (not timed in `skdmMs`): bundle processed, prekey message, reply. */
  sessionSetupMs: number
  /** Of which the sender's `processPreKeyBundle` calls alone (its PQXDH, Signal's cold path). */
  senderPqxdhMs: number
  /** SKDM created and `signalEncrypt`ed to every member: median, and every run. */
  skdmMs: number
  skdmRunsMs: number[]
  skdmCpuMs: number
  /** The same through sealed sender v1. */
  skdmSealedMs: number
  skdmSealedRunsMs: number[]
  /** Bytes of one encrypted SKDM (session message) and one sealed one. */
  skdmBytes: number
  skdmSealedBytes: number
  messageBytes: number
  encryptPerSecond: number
  encryptRunsPerSecond: number[]
  decryptPerSecond: number
  decryptRunsPerSecond: number[]
  /** Bytes of one group message on the wire (SenderKeyMessage). */
  ciphertextBytes: number
}

const addressKey = (address: ProtocolAddress) => `${address.name()}.${address.deviceId()}`

class MemorySessionStore extends SessionStore {
  private readonly sessions = new Map<string, SessionRecord>()
  async saveSession(name: ProtocolAddress, record: SessionRecord): Promise<void> {
    this.sessions.set(addressKey(name), record)
  }
  async getSession(name: ProtocolAddress): Promise<SessionRecord | null> {
    return this.sessions.get(addressKey(name)) ?? null
  }
  async getExistingSessions(addresses: ProtocolAddress[]): Promise<SessionRecord[]> {
    return addresses.map((address) => {
      const record = this.sessions.get(addressKey(address))
      if (!record) throw new Error(`no session with ${addressKey(address)}`)
      return record
    })
  }
}

class MemoryIdentityStore extends IdentityKeyStore {
  private readonly identities = new Map<string, PublicKey>()
  constructor(
    private readonly identity: IdentityKeyPair,
    private readonly registrationId: number,
  ) {
    super()
  }
  async getIdentityKey(): Promise<PrivateKey> {
    return this.identity.privateKey
  }
  async getLocalRegistrationId(): Promise<number> {
    return this.registrationId
  }
  async saveIdentity(name: ProtocolAddress, key: PublicKey): Promise<IdentityChange> {
    const known = this.identities.get(addressKey(name))
    this.identities.set(addressKey(name), key)
    return known && !known.equals(key) ? IdentityChange.ReplacedExisting : IdentityChange.NewOrUnchanged
  }
  async isTrustedIdentity(name: ProtocolAddress, key: PublicKey, _direction: Direction): Promise<boolean> {
    const known = this.identities.get(addressKey(name))
    return !known || known.equals(key)
  }
  async getIdentity(name: ProtocolAddress): Promise<PublicKey | null> {
    return this.identities.get(addressKey(name)) ?? null
  }
}

/** One member's prekeys: the three stores a recipient of a prekey message reads. */
class MemoryPreKeyStores {
  readonly preKeys = new (class extends PreKeyStore {
    readonly records = new Map<number, PreKeyRecord>()
    async savePreKey(id: number, record: PreKeyRecord) {
      this.records.set(id, record)
    }
    async getPreKey(id: number) {
      const record = this.records.get(id)
      if (!record) throw new Error(`no prekey ${id}`)
      return record
    }
    async removePreKey(id: number) {
      this.records.delete(id)
    }
  })()
  readonly signedPreKeys = new (class extends SignedPreKeyStore {
    readonly records = new Map<number, SignedPreKeyRecord>()
    async saveSignedPreKey(id: number, record: SignedPreKeyRecord) {
      this.records.set(id, record)
    }
    async getSignedPreKey(id: number) {
      const record = this.records.get(id)
      if (!record) throw new Error(`no signed prekey ${id}`)
      return record
    }
  })()
  readonly kyberPreKeys = new (class extends KyberPreKeyStore {
    readonly records = new Map<number, KyberPreKeyRecord>()
    async saveKyberPreKey(id: number, record: KyberPreKeyRecord) {
      this.records.set(id, record)
    }
    async getKyberPreKey(id: number) {
      const record = this.records.get(id)
      if (!record) throw new Error(`no kyber prekey ${id}`)
      return record
    }
    async markKyberPreKeyUsed() {}
  })()
}

class MemorySenderKeyStore extends SenderKeyStore {
  private readonly records = new Map<string, SenderKeyRecord>()
  async saveSenderKey(sender: ProtocolAddress, distributionId: Uuid, record: SenderKeyRecord): Promise<void> {
    this.records.set(`${addressKey(sender)}/${distributionId}`, record)
  }
  async getSenderKey(sender: ProtocolAddress, distributionId: Uuid): Promise<SenderKeyRecord | null> {
    return this.records.get(`${addressKey(sender)}/${distributionId}`) ?? null
  }
}

/** A Signal client: its address, identity and stores. */
function makeClient() {
  const identity = IdentityKeyPair.generate()
  const registrationId = randomInt(1, 16_380)
  const aci = Aci.fromUuid(crypto.randomUUID())
  return {
    aci,
    address: ProtocolAddress.new(aci.getServiceIdString(), 1),
    identity,
    registrationId,
    sessions: new MemorySessionStore(),
    identities: new MemoryIdentityStore(identity, registrationId),
    senderKeys: new MemorySenderKeyStore(),
  }
}
type Client = ReturnType<typeof makeClient>

/** The member publishes a bundle, the sender starts a session from it, the member answers once. */
async function establishSession(sender: Client, member: Client, timing: { pqxdhMs: number }): Promise<void> {
  const stores = new MemoryPreKeyStores()
  const preKey = PrivateKey.generate()
  const signedPreKey = PrivateKey.generate()
  const kyber = KEMKeyPair.generate()
  const signedSignature = member.identity.privateKey.sign(signedPreKey.getPublicKey().serialize())
  const kyberSignature = member.identity.privateKey.sign(kyber.getPublicKey().serialize())
  const now = Date.now()
  await stores.preKeys.savePreKey(1, PreKeyRecord.new(1, preKey.getPublicKey(), preKey))
  await stores.signedPreKeys.saveSignedPreKey(
    1,
    SignedPreKeyRecord.new(1, now, signedPreKey.getPublicKey(), signedPreKey, signedSignature),
  )
  await stores.kyberPreKeys.saveKyberPreKey(1, KyberPreKeyRecord.new(1, now, kyber, kyberSignature))
  const bundle = PreKeyBundle.new(
    member.registrationId,
    1,
    1,
    preKey.getPublicKey(),
    1,
    signedPreKey.getPublicKey(),
    signedSignature,
    member.identity.publicKey,
    1,
    kyber.getPublicKey(),
    kyberSignature,
  )
  const started = performance.now()
  await processPreKeyBundle(bundle, member.address, sender.address, sender.sessions, sender.identities)
  timing.pqxdhMs += performance.now() - started
  const hello = await signalEncrypt(new Uint8Array([1]), member.address, sender.address, sender.sessions, sender.identities)
  await signalDecryptPreKey(
    PreKeySignalMessage.deserialize(hello.serialize()),
    sender.address,
    member.address,
    member.sessions,
    member.identities,
    stores.preKeys,
    stores.signedPreKeys,
    stores.kyberPreKeys,
  )
  const reply = await signalEncrypt(new Uint8Array([2]), sender.address, member.address, member.sessions, member.identities)
  await signalDecrypt(
    SignalMessage.deserialize(reply.serialize()),
    member.address,
    sender.address,
    sender.sessions,
    sender.identities,
  )
}

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  )

/** Sender-key distribution to `members` 1:1 sessions, and group encrypt / decrypt. */
export async function signalSenderKeys(options: SignalSenderKeysOptions): Promise<SignalSenderKeysResult> {
  const { members: count, messages, messageBytes, repetitions } = options
  const sender = makeClient()
  const members = Array.from({ length: count }, makeClient)

  const setupStarted = performance.now()
  const timing = { pqxdhMs: 0 }
  for (const member of members) await establishSession(sender, member, timing)
  const sessionSetupMs = performance.now() - setupStarted

  // Sealed sender: the server's certificate chain and the sender's certificate, made once.
  const trustRoot = PrivateKey.generate()
  const serverKey = PrivateKey.generate()
  const serverCertificate = ServerCertificate.new(1, serverKey.getPublicKey(), trustRoot)
  const senderCertificate = SenderCertificate.new(
    sender.aci.getRawUuid(),
    null,
    1,
    sender.identity.publicKey,
    Date.now() + 86_400_000,
    serverCertificate,
    serverKey,
  )

  let skdmBytes = 0
  let skdmSealedBytes = 0
  const distribute = async (sealed: boolean) => {
    const distributionId = crypto.randomUUID()
    const started = performance.now()
    const cpuStarted = cpuMs()
    const skdm = await SenderKeyDistributionMessage.create(sender.address, distributionId, sender.senderKeys)
    const bytes = skdm.serialize()
    for (const member of members) {
      if (sealed) {
        const out = await sealedSenderEncryptMessage(bytes, member.address, senderCertificate, sender.sessions, sender.identities)
        skdmSealedBytes = out.length
      } else {
        const out = await signalEncrypt(bytes, member.address, sender.address, sender.sessions, sender.identities)
        skdmBytes = out.serialize().length
      }
    }
    return { ms: performance.now() - started, cpu: cpuMs() - cpuStarted }
  }
  const skdmRuns: { ms: number; cpu: number }[] = []
  const sealedRuns: number[] = []
  await distribute(false)
  await distribute(true)
  for (let i = 0; i < repetitions; i++) {
    skdmRuns.push(await distribute(false))
    sealedRuns.push((await distribute(true)).ms)
  }

  // Group messages. Each repetition is a new distribution id: its SKDM, processed by a new
  // receiver, starts the chain where the encryptions start (a chain's message opens only once).
  const plaintext = new Uint8Array(messageBytes).fill(0x61)
  let ciphertextBytes = 0
  const groupRun = async () => {
    const distributionId = crypto.randomUUID()
    const skdm = await SenderKeyDistributionMessage.create(sender.address, distributionId, sender.senderKeys)
    const receiver = new MemorySenderKeyStore()
    await processSenderKeyDistributionMessage(
      sender.address,
      SenderKeyDistributionMessage.deserialize(skdm.serialize()),
      receiver,
    )
    const ciphertexts: Uint8Array<ArrayBuffer>[] = []
    let started = performance.now()
    for (let i = 0; i < messages; i++) {
      ciphertexts.push((await groupEncrypt(sender.address, distributionId, sender.senderKeys, plaintext)).serialize())
    }
    const encryptSeconds = (performance.now() - started) / 1000
    ciphertextBytes = (ciphertexts[0] as Uint8Array).length
    started = performance.now()
    for (const ciphertext of ciphertexts) {
      // Each in its own turn of the event loop, as frames arrive (and as `group-keys.ts` opens them).
      await new Promise(setImmediate)
      const opened = await groupDecrypt(sender.address, receiver, ciphertext)
      if (opened.length !== messageBytes) throw new Error('groupDecrypt returned another message')
    }
    const decryptSeconds = (performance.now() - started) / 1000
    return { encrypt: messages / encryptSeconds, decrypt: messages / decryptSeconds }
  }
  const encryptRuns: number[] = []
  const decryptRuns: number[] = []
  await groupRun()
  for (let i = 0; i < repetitions; i++) {
    const run = await groupRun()
    encryptRuns.push(run.encrypt)
    decryptRuns.push(run.decrypt)
  }

  const skdmMs = median(skdmRuns.map((run) => run.ms))
  return {
    version: libsignalVersion(),
    members: count,
    sessionSetupMs: round(sessionSetupMs, 0),
    senderPqxdhMs: round(timing.pqxdhMs, 1),
    skdmMs: round(skdmMs, 1),
    skdmRunsMs: skdmRuns.map((run) => round(run.ms, 1)),
    skdmCpuMs: round(median(skdmRuns.map((run) => run.cpu)), 1),
    skdmSealedMs: round(median(sealedRuns), 1),
    skdmSealedRunsMs: sealedRuns.map((ms) => round(ms, 1)),
    skdmBytes,
    skdmSealedBytes,
    messageBytes,
    encryptPerSecond: Math.round(median(encryptRuns)),
    encryptRunsPerSecond: encryptRuns.map(Math.round),
    decryptPerSecond: Math.round(median(decryptRuns)),
    decryptRunsPerSecond: decryptRuns.map(Math.round),
    ciphertextBytes,
  }
}

/** The installed libsignal-client's version. */
export function libsignalVersion(): string {
  return (createRequire(import.meta.url)('@signalapp/libsignal-client/package.json') as { version: string }).version
}
