/**
 * A real server behind the man in the middle, shared by the tests of one `describe`: clients know
 * the server by the proxy's address, as a user in front of a MITM would. Every hook of the proxy
 * is reset before each test.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest'
import { unlimited } from '../../../server/test/_rooms.js'
import type { DialectName } from '../../../server/test/_util.js'
import { MitmProxy } from '../_proxy.js'
import { TestServer } from '../_util.js'

export type BehindProxy = { proxy: MitmProxy; server: TestServer }

/**
 * @example
 * const setup = serverBehindProxy(dialect)
 * test('…', async () => { const client = newClient(setup.proxy.url) })
 */
export function serverBehindProxy(dialect: DialectName): BehindProxy {
  const setup = {} as BehindProxy
  beforeAll(async () => {
    setup.proxy = await MitmProxy.create()
    setup.server = await TestServer.create({
      dialect,
      configure: (config) => {
        unlimited(config)
        config.service.publicUrl = setup.proxy.url
      },
    })
    setup.proxy.target = setup.server.server.port
  })
  afterAll(async () => {
    await setup.proxy?.[Symbol.asyncDispose]()
    await setup.server?.[Symbol.asyncDispose]()
  })
  beforeEach(() => {
    setup.proxy.onServerFrame = undefined
    setup.proxy.rewriteJson = undefined
    setup.proxy.rewrite = undefined
    setup.proxy.refuse = false
  })
  return setup
}
