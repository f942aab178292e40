/**
 * A lying chain RPC for the hostile suite: a real HTTP JSON-RPC proxy (node `http`) in front of the
 * real anvil. Calls pass unchanged unless a test sets `rewrite`, which sees each call and the real
 * answer and returns the answer the client gets instead (`eth_chainId`, `eth_call` of the registry,
 * `eth_getLogs`, `eth_getBlockByNumber`…). `registryCall` and `registryResult` decode and encode
 * registry calls, so a test can answer `getKey` with an older CID or `cidCount` with fewer anchors.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { dmtpRegistryAbi } from '@dmtp/contracts'
import { decodeFunctionData, decodeFunctionResult, encodeFunctionResult, type Hex } from 'viem'

export type RpcCall = { method: string; params: any[] }
export type RpcRewrite = (call: RpcCall, result: unknown) => unknown

type RegistryFunction = (typeof dmtpRegistryAbi)[number] & { type: 'function' }

export class RpcProxy implements AsyncDisposable {
  rewrite: RpcRewrite | undefined
  /** Every method called through the proxy, in order: a test can check the client used it. */
  readonly calls: string[] = []

  private constructor(
    private readonly server: http.Server,
    public target: string,
  ) {}

  static async start(target: string): Promise<RpcProxy> {
    const server = http.createServer()
    const proxy = new RpcProxy(server, target)
    server.on('request', (request, response) => {
      proxy.forward(request, response).catch(() => response.destroy())
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return proxy
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  private async forward(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
    const upstream = await fetch(this.target, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    const answer = (await upstream.json()) as unknown
    const calls = JSON.parse(body) as RpcCall | RpcCall[]
    const rewriteOne = (call: RpcCall, reply: { result?: unknown }) => {
      this.calls.push(call.method)
      if (!this.rewrite || !('result' in reply)) return reply
      return { ...reply, result: this.rewrite(call, reply.result) }
    }
    const out = Array.isArray(calls)
      ? (answer as { id: unknown }[]).map((reply) =>
          rewriteOne(calls.find((call: any) => call.id === reply.id) as RpcCall, reply),
        )
      : rewriteOne(calls, answer as { result?: unknown })
    const bytes = Buffer.from(JSON.stringify(out))
    response.writeHead(upstream.status, { 'content-type': 'application/json', 'content-length': String(bytes.length) })
    response.end(bytes)
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}

/** The registry function an `eth_call` calls, with its arguments; undefined for any other call. */
export function registryCall(call: RpcCall): { functionName: string; args: readonly unknown[] } | undefined {
  if (call.method !== 'eth_call') return undefined
  try {
    const decoded = decodeFunctionData({ abi: dmtpRegistryAbi, data: call.params[0].data as Hex })
    return { functionName: decoded.functionName, args: decoded.args ?? [] }
  } catch {
    return undefined
  }
}

/** The `eth_call` answer a registry function would give with `value`. */
export function registryResult(functionName: RegistryFunction['name'], value: unknown): Hex {
  return encodeFunctionResult({ abi: dmtpRegistryAbi, functionName, result: value } as never)
}

/** The value a registry function's real `eth_call` answer holds. */
export function registryDecode(functionName: RegistryFunction['name'], result: unknown): unknown {
  return decodeFunctionResult({ abi: dmtpRegistryAbi, functionName, data: result as Hex } as never)
}
