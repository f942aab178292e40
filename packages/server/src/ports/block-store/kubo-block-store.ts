/**
 * The Kubo block store: blocks live in an IPFS node (Kubo, https://github.com/ipfs/kubo), reached
 * through its RPC API (https://docs.ipfs.tech/reference/kubo/rpc/) at `DMTP_IPFS_API`. Blocks are
 * put with our codec and hash (dag-json, sha2-256) and pinned, so the node keeps them through
 * garbage collection and serves them to the IPFS network under the very CIDs the server computed;
 * the node must answer with that CID, or the put fails. Reads are `offline`: a block this node
 * does not hold is missing, not something to go and fetch from the network.
 *
 * @NOTE Plain `fetch`, not kubo-rpc-client: that client pulls in libp2p and electron-fetch for the
 * six POST endpoints used here.
 */
import { BaseError, blockMatchesCid } from '@dmtp/protocol'
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import type { Block, BlockStore } from './types.js'

const TIMEOUT_MS = 30_000
/** Requests in flight at once when putting or deleting many blocks. */
const CONCURRENCY = 8
/** How Kubo words "this node does not have that block" (versions differ). */
const MISSING = /not found|could not find/i
const NOT_PINNED = /not pinned/i

export type KuboErrorType = KuboError & { name: 'KuboError' }

/** Kubo could not be reached, timed out, or answered something other than what was asked. */
export class KuboError extends BaseError {
  override name = 'KuboError'
  /** Kubo's own error message (`{"Message"}` of an error response), when it sent one. */
  readonly kuboMessage: string | undefined

  constructor({
    shortMessage,
    kuboMessage,
    metaMessages,
    cause,
  }: { shortMessage: string; kuboMessage?: string; metaMessages?: string[]; cause?: unknown }) {
    // The short message already says what went wrong; a fetch failure's own message adds nothing.
    super(shortMessage, { cause, details: kuboMessage ?? '', metaMessages })
    this.kuboMessage = kuboMessage
  }
}

export class KuboBlockStore implements BlockStore {
  private constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Connects to the Kubo RPC API at `url` and checks a Kubo node answers there.
   * @param timeoutMs - how long one request may take (tests shorten it).
   * @throws {KuboError} when no Kubo node answers: the server should not boot without its blocks.
   */
  static async create({ url }: { url: string }, { timeoutMs = TIMEOUT_MS } = {}): Promise<KuboBlockStore> {
    const store = new KuboBlockStore(url.replace(/\/$/, ''), timeoutMs)
    try {
      const version = await store.json<{ Version?: unknown }>('version', await store.call('version', {}))
      if (typeof version.Version !== 'string') {
        throw new KuboError({ shortMessage: `${store.where('version')} answered without a version: is this a Kubo RPC API?` })
      }
    } catch (error) {
      if (!(error instanceof KuboError)) throw error
      throw new KuboError({
        shortMessage: error.shortMessage,
        kuboMessage: error.kuboMessage,
        metaMessages: [
          'DMTP_IPFS_API must name the RPC API of a running Kubo node (e.g. http://127.0.0.1:5001).',
          'Start the node, or unset DMTP_IPFS_API to keep blocks on disk.',
        ],
        cause: error.cause,
      })
    }
    return store
  }

  async put(blocks: Block[]): Promise<void> {
    await eachLimited(blocks, async ({ cid, bytes }) => {
      const form = new FormData()
      form.append('file', new Blob([bytes], { type: 'application/octet-stream' }), 'block')
      const response = await this.call('block/put', { 'cid-codec': 'dag-json', mhtype: 'sha2-256', pin: 'true' }, form)
      const { Key } = await this.json<{ Key?: unknown }>('block/put', response)
      if (Key !== cid) {
        throw new KuboError({
          shortMessage: `${this.where('block/put')} stored a block as ${JSON.stringify(Key)}, but its CID is ${cid}: the node hashes or encodes blocks differently.`,
        })
      }
    })
  }

  async get(cid: string): Promise<Uint8Array | undefined> {
    const response = await this.call('block/get', { arg: cid, offline: 'true' }, undefined, MISSING)
    if (!response) return undefined
    const bytes = new Uint8Array(await this.read('block/get', response, (body) => body.arrayBuffer()))
    // Kubo does not re-hash blocks on read by default (Datastore.HashOnRead), so check here.
    if (!blockMatchesCid(bytes, cid, nodeCryptoBackend.sha256)) {
      throw new KuboError({ shortMessage: `${this.where('block/get')} returned bytes that do not hash to ${cid}.` })
    }
    return bytes
  }

  async has(cid: string): Promise<boolean> {
    const response = await this.call('block/stat', { arg: cid, offline: 'true' }, undefined, MISSING)
    if (response) await this.json('block/stat', response)
    return response !== undefined
  }

  async delete(cids: string[]): Promise<void> {
    await eachLimited(cids, async (cid) => {
      const unpinned = await this.call('pin/rm', { arg: cid }, undefined, NOT_PINNED)
      if (unpinned) await this.json('pin/rm', unpinned)
      // `force` makes a block that is already gone a success; other failures come per block.
      const response = await this.call('block/rm', { arg: cid, force: 'true' })
      const text = await this.read('block/rm', response, (body) => body.text())
      for (const line of text.split('\n').filter(Boolean)) {
        const result = parseJson(line) as { Error?: unknown } | undefined
        if (typeof result?.Error === 'string' && result.Error !== '') {
          throw new KuboError({ shortMessage: `${this.where('block/rm')} could not remove ${cid}.`, kuboMessage: result.Error })
        }
      }
    })
  }

  async destroy(): Promise<void> {}

  private where(endpoint: string): string {
    return `Kubo at ${this.url} (POST /api/v0/${endpoint})`
  }

  /**
   * POSTs to one RPC endpoint. An error response whose message matches `expected` (a missing
   * block, say) resolves to undefined; any other failure throws a KuboError naming the endpoint.
   */
  private call(endpoint: string, params: Record<string, string>, body?: FormData): Promise<Response>
  private call(
    endpoint: string,
    params: Record<string, string>,
    body: FormData | undefined,
    expected: RegExp,
  ): Promise<Response | undefined>
  private async call(
    endpoint: string,
    params: Record<string, string>,
    body?: FormData,
    expected?: RegExp,
  ): Promise<Response | undefined> {
    let response: Response
    try {
      response = await fetch(`${this.url}/api/v0/${endpoint}?${new URLSearchParams(params)}`, {
        method: 'POST',
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      })
    } catch (cause) {
      throw new KuboError({
        shortMessage: `${this.where(endpoint)} did not answer: ${describeFailure(cause, this.timeoutMs)}.`,
        cause,
      })
    }
    if (response.ok) return response
    const text = await this.read(endpoint, response, (failed) => failed.text())
    const message = (parseJson(text) as { Message?: unknown } | undefined)?.Message
    if (typeof message === 'string' && expected?.test(message)) return undefined
    throw new KuboError({
      shortMessage: `${this.where(endpoint)} failed with HTTP ${response.status}.`,
      kuboMessage: typeof message === 'string' ? message : text.slice(0, 200),
    })
  }

  private async json<T = unknown>(endpoint: string, response: Response): Promise<T> {
    const text = await this.read(endpoint, response, (body) => body.text())
    const value = parseJson(text)
    if (typeof value !== 'object' || value === null) {
      throw new KuboError({
        shortMessage: `${this.where(endpoint)} answered with something other than a JSON object.`,
        kuboMessage: text.slice(0, 200),
      })
    }
    return value as T
  }

  /** Reads a response body; the request's timeout still applies while it streams. */
  private async read<T>(endpoint: string, response: Response, reader: (body: Response) => Promise<T>): Promise<T> {
    try {
      return await reader(response)
    } catch (cause) {
      throw new KuboError({
        shortMessage: `${this.where(endpoint)} broke off its answer: ${describeFailure(cause, this.timeoutMs)}.`,
        cause,
      })
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** "connection refused", "timed out after 30000 ms": what went wrong, without a stack. */
function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause
  if (cause?.code === 'ECONNREFUSED') return 'connection refused (is the Kubo daemon running?)'
  if (typeof cause?.message === 'string') return cause.message
  return error instanceof Error ? error.message : String(error)
}

/** Runs `fn` on every item, at most CONCURRENCY at a time; stops and rejects at the first failure. */
async function eachLimited<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let failed = false
  const worker = async () => {
    while (!failed && next < items.length) {
      await fn(items[next++] as T).catch((error) => {
        failed = true
        throw error
      })
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker))
}
