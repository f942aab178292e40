/**
 * A man in the middle for tests: a real HTTP and WebSocket proxy (node `http` + `ws`) between an
 * SDK client and a real server. Requests and frames pass unchanged unless a test sets a hook:
 * `onServerFrame` sees every frame the server sends to the client and decides what the client
 * gets instead (nothing, the frame twice, another frame, later); `rewriteJson` rewrites JSON
 * answers to chosen HTTP requests; `rewrite` sees any answer with its status and may replace its
 * body.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocket, WebSocketServer } from 'ws'

/** What the client is sent for one server frame: call `send` any number of times (or never). */
export type FrameHook = (frame: Record<string, any>, send: (frame: Record<string, any>) => void) => void
export type JsonRewrite = (path: string, body: any) => any
export type ProxiedRequest = { method: string; path: string; query: URLSearchParams; headers: http.IncomingHttpHeaders }
export type ProxiedAnswer = { status: number; body: string }
/** Returns the body to answer instead, or undefined to pass the server's answer on. */
export type AnswerRewrite = (request: ProxiedRequest, answer: ProxiedAnswer) => string | undefined

export class MitmProxy implements AsyncDisposable {
  onServerFrame: FrameHook | undefined
  rewriteJson: JsonRewrite | undefined
  /** Sees every HTTP answer (any content type) before `rewriteJson`; a string it returns is the body sent instead. */
  rewrite: AnswerRewrite | undefined
  /** The port of the real server; set once it listens. */
  target = 0
  /** While true, new stream connections are refused (the network is down). */
  refuse = false
  /** Every HTTP request passed on (method and path), for tests that check what was asked. */
  readonly requests: string[] = []
  /** Client-side sockets open now, to cut a connection as a network would. */
  readonly clients = new Set<WebSocket>()

  private constructor(private readonly server: http.Server) {}

  static async create(): Promise<MitmProxy> {
    const server = http.createServer()
    const proxy = new MitmProxy(server)
    const wss = new WebSocketServer({ noServer: true })
    server.on('request', (request, response) => proxy.forward(request, response))
    server.on('upgrade', (request, socket, head) => {
      if (proxy.refuse) return void socket.destroy()
      wss.handleUpgrade(request, socket, head, (client) => proxy.relay(client, request.url ?? '/'))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return proxy
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** Requests so far whose path starts with `prefix` (and whose method is `method`, if given). */
  count(prefix: string, method?: string): number {
    return this.requests.filter((request) => {
      const [verb, path = ''] = request.split(' ')
      return path.startsWith(prefix) && (method === undefined || verb === method)
    }).length
  }

  /** Closes every client connection (as a dropped network would); clients reconnect. */
  cut(): void {
    for (const client of this.clients) client.terminate()
  }

  private forward(request: http.IncomingMessage, response: http.ServerResponse): void {
    const path = request.url ?? '/'
    this.requests.push(`${request.method} ${path}`)
    const upstream = http.request(
      { host: '127.0.0.1', port: this.target, path, method: request.method, headers: request.headers },
      (answer) => {
        if (this.rewrite) return this.answerRewritten(request, path, answer, response, this.rewrite)
        const rewrite = this.rewriteJson
        const json = String(answer.headers['content-type'] ?? '').includes('application/json')
        if (!rewrite || !json) {
          response.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(response)
          return
        }
        const chunks: Buffer[] = []
        answer.on('data', (chunk: Buffer) => chunks.push(chunk))
        answer.on('end', () => {
          const body = Buffer.from(JSON.stringify(rewrite(path, JSON.parse(Buffer.concat(chunks).toString('utf8')))))
          const headers = { ...answer.headers, 'content-length': String(body.length) }
          delete headers['transfer-encoding']
          response.writeHead(answer.statusCode ?? 502, headers)
          response.end(body)
        })
      },
    )
    upstream.on('error', () => response.destroy())
    request.pipe(upstream)
  }

  private answerRewritten(
    request: http.IncomingMessage,
    path: string,
    answer: http.IncomingMessage,
    response: http.ServerResponse,
    rewrite: AnswerRewrite,
  ): void {
    const url = new URL(path, 'http://proxy')
    const proxied = { method: request.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: request.headers }
    const chunks: Buffer[] = []
    answer.on('data', (chunk: Buffer) => chunks.push(chunk))
    answer.on('end', () => {
      const bytes = Buffer.concat(chunks)
      const replaced = rewrite(proxied, { status: answer.statusCode ?? 502, body: bytes.toString('utf8') })
      const body = replaced === undefined ? bytes : Buffer.from(replaced)
      const headers = { ...answer.headers, 'content-length': String(body.length) }
      delete headers['transfer-encoding']
      response.writeHead(answer.statusCode ?? 502, headers)
      response.end(body)
    })
  }

  private relay(client: WebSocket, path: string): void {
    this.clients.add(client)
    const server = new WebSocket(`ws://127.0.0.1:${this.target}${path}`)
    const early: string[] = []
    server.on('open', () => {
      for (const text of early.splice(0)) server.send(text)
    })
    client.on('message', (data) => {
      const text = data.toString()
      if (server.readyState === WebSocket.OPEN) server.send(text)
      else early.push(text)
    })
    server.on('message', (data) => {
      const frame = JSON.parse(data.toString())
      const send = (out: Record<string, any>) => {
        if (client.readyState === WebSocket.OPEN) client.send(JSON.stringify(out))
      }
      if (this.onServerFrame) this.onServerFrame(frame, send)
      else send(frame)
    })
    const closeBoth = (code?: number, reason?: Buffer) => {
      this.clients.delete(client)
      const valid = code !== undefined && (code === 1000 || (code >= 3000 && code < 5000) || code === 1013 || code === 1001)
      for (const socket of [client, server]) {
        if (socket.readyState === WebSocket.OPEN) valid ? socket.close(code, reason) : socket.terminate()
        else if (socket.readyState === WebSocket.CONNECTING) socket.terminate()
      }
    }
    server.on('close', closeBoth)
    client.on('close', closeBoth)
    server.on('error', () => closeBoth())
    client.on('error', () => closeBoth())
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.cut()
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}
