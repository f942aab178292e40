/**
 * A minimal Kubo RPC API (https://docs.ipfs.tech/reference/kubo/rpc/) for tests: a real HTTP
 * server on 127.0.0.1 with exactly the endpoints the Kubo block store uses, so tests run the real
 * adapter over real HTTP. It behaves as Kubo does where the adapter depends on it: POST only,
 * multipart bodies, the CID computed from the bytes received (with the codec asked for), pins,
 * `block/rm` reporting per-block errors (a pinned block) in its NDJSON body, and Kubo-shaped JSON errors with
 * HTTP 500. `wrongCid` makes it answer `block/put` with another CID, as a node configured with
 * another hash or codec would.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { cidOfBlock } from '@dmtp/protocol'

export type FakeKuboOptions = { wrongCid?: boolean }

export class FakeKubo implements AsyncDisposable {
  readonly blocks = new Map<string, Uint8Array>()
  readonly pins = new Set<string>()
  /** Blocks that some other pinned DAG links to: Kubo refuses to remove them. */
  readonly indirectPins = new Set<string>()
  /** Every request as `endpoint?query`, in order. */
  readonly requests: string[] = []

  private constructor(
    private readonly server: http.Server,
    private readonly options: FakeKuboOptions,
  ) {}

  static async start(options: FakeKuboOptions = {}): Promise<FakeKubo> {
    const server = http.createServer()
    const kubo = new FakeKubo(server, options)
    server.on('request', (request, response) => {
      kubo.handle(request, response).catch((error) => fail(response, 500, String(error)))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return kubo
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise((resolve) => this.server.close(resolve))
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1')
    const endpoint = url.pathname.replace(/^\/api\/v0\//, '')
    this.requests.push(`${endpoint}${url.search}`)
    const body = await readBody(request)
    if (request.method !== 'POST') return fail(response, 405, `${request.method} not allowed`)
    const arg = url.searchParams.get('arg') ?? ''
    switch (url.pathname) {
      case '/api/v0/version':
        return send(response, { Version: '0.0.0-fake', Commit: '', Repo: '16', System: 'fake', Golang: 'none' })
      case '/api/v0/block/put': {
        if (url.searchParams.get('cid-codec') !== 'dag-json' || (url.searchParams.get('mhtype') ?? 'sha2-256') !== 'sha2-256') {
          return fail(response, 500, 'this fake Kubo only makes dag-json sha2-256 CIDs')
        }
        const bytes = await filePart(request, body)
        if (!bytes) return fail(response, 500, "file argument 'data' is required")
        const cid = cidOfBlock(bytes)
        this.blocks.set(cid, bytes)
        if (url.searchParams.get('pin') === 'true') this.pins.add(cid)
        const key = this.options.wrongCid ? cidOfBlock(new Uint8Array([...bytes, 0])) : cid
        return send(response, { Key: key, Size: bytes.length })
      }
      case '/api/v0/block/get': {
        const bytes = this.blocks.get(arg)
        if (!bytes) return fail(response, 500, 'block not found')
        response.writeHead(200, { 'content-type': 'text/plain' })
        return void response.end(bytes)
      }
      case '/api/v0/block/stat': {
        const bytes = this.blocks.get(arg)
        if (!bytes) return fail(response, 500, 'block not found')
        return send(response, { Key: arg, Size: bytes.length })
      }
      case '/api/v0/pin/rm':
        if (!this.pins.delete(arg)) return fail(response, 500, 'not pinned or pinned indirectly')
        return send(response, { Pins: [arg] })
      case '/api/v0/block/rm': {
        const force = url.searchParams.get('force') === 'true'
        let error = ''
        if (this.pins.has(arg)) error = 'pinned: direct'
        else if (this.indirectPins.has(arg)) error = 'pinned (indirect)'
        else if (!this.blocks.delete(arg) && !force) error = 'ipld: could not find block'
        response.writeHead(200, { 'content-type': 'application/json' })
        return void response.end(`${JSON.stringify({ Hash: arg, ...(error ? { Error: error } : {}) })}\n`)
      }
      default:
        response.writeHead(404, { 'content-type': 'text/plain' })
        return void response.end('404 page not found')
    }
  }
}

function readBody(request: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => resolve(Buffer.concat(chunks)))
    request.on('error', reject)
  })
}

/** The first file part of a multipart/form-data body, parsed by the web `Request` API. */
async function filePart(request: http.IncomingMessage, body: Buffer): Promise<Uint8Array | undefined> {
  const form = await new Request('http://127.0.0.1/', {
    method: 'POST',
    headers: { 'content-type': request.headers['content-type'] ?? '' },
    body,
  })
    .formData()
    .catch(() => undefined)
  const file = [...(form?.values() ?? [])].find((value) => value instanceof Blob)
  return file ? new Uint8Array(await file.arrayBuffer()) : undefined
}

function send(response: http.ServerResponse, value: unknown): void {
  response.writeHead(200, { 'content-type': 'application/json' })
  response.end(JSON.stringify(value))
}

function fail(response: http.ServerResponse, status: number, message: string): void {
  if (response.headersSent) return void response.destroy()
  response.writeHead(status, { 'content-type': 'application/json' })
  response.end(JSON.stringify({ Message: message, Code: 0, Type: 'error' }))
}
