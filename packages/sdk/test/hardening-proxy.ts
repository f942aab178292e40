/**
 * A real HTTP proxy between a client and a real server, for hardening tests: it forwards every
 * request and lets a test rewrite the answers a hostile server would give. The server is told the
 * proxy's URL as its public URL (`DMTP_PUBLIC_URL`), so sign-in and key bundles name the domain the
 * client was configured with, as in a deployment behind a reverse proxy.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export type ProxiedRequest = { method: string; path: string; query: URLSearchParams }
export type ProxiedAnswer = { status: number; body: string }
/** Returns the body to answer instead, or undefined to pass the server's answer on. */
export type AnswerRewrite = (request: ProxiedRequest, answer: ProxiedAnswer) => string | undefined

// Hop-by-hop and length headers are the proxy's own to set.
const DROPPED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'content-encoding', 'host'])

export class HardeningProxy implements AsyncDisposable {
  /** Where requests go; set once the server listens. */
  target: string | undefined
  rewrite: AnswerRewrite | undefined
  /** Every request forwarded, in order. */
  readonly requests: ProxiedRequest[] = []

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<HardeningProxy> {
    const server = http.createServer()
    const proxy = new HardeningProxy(server)
    server.on('request', (request, response) => {
      proxy.forward(request, response).catch((error: unknown) => {
        response.writeHead(502, { 'content-type': 'application/json' })
        response.end(JSON.stringify({ error: { code: 'upstream_failure', message: String(error) } }))
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return proxy
  }

  get url(): string {
    return `http://localhost:${(this.server.address() as AddressInfo).port}`
  }

  /** Requests so far whose path starts with `prefix` (and whose method is `method`, if given). */
  count(prefix: string, method?: string): number {
    return this.requests.filter((r) => r.path.startsWith(prefix) && (method === undefined || r.method === method)).length
  }

  private async forward(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    if (!this.target) throw new Error('the proxy has no target yet')
    const url = new URL(request.url ?? '/', this.target)
    const proxied = { method: request.method ?? 'GET', path: url.pathname, query: url.searchParams }
    this.requests.push(proxied)
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(request.headers)) {
      if (!DROPPED.has(name) && typeof value === 'string') headers[name] = value
    }
    const upstream = await fetch(url, {
      method: proxied.method,
      headers,
      ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
    })
    const bytes = Buffer.from(await upstream.arrayBuffer())
    const replaced = this.rewrite?.(proxied, { status: upstream.status, body: bytes.toString('utf8') })
    const out: Record<string, string> = {}
    upstream.headers.forEach((value, name) => {
      if (!DROPPED.has(name)) out[name] = value
    })
    const body = replaced === undefined ? bytes : Buffer.from(replaced)
    response.writeHead(upstream.status, { ...out, 'content-length': String(body.byteLength) })
    response.end(body)
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.server.closeAllConnections()
    await new Promise((resolve) => this.server.close(resolve))
  }
}
