/**
 * The web app (packages/web's build) at /: files from `webRoot` as they are, and `index.html` for
 * any other GET, so the app's own routes survive a reload. The API's prefixes are never shadowed:
 * an unknown /v1, /ipfs, /docs or /health path still gets the API's JSON 404.
 */
import fs from 'node:fs'
import path from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsync } from 'fastify'

const API_PREFIXES = ['/v1', '/ipfs', '/docs', '/health']

export type WebRoutesOptions = { root: string }

export const webRoutes: FastifyPluginAsync<WebRoutesOptions> = async (app, { root }) => {
  const base = path.resolve(root)
  // Only `reply.sendFile`: the route below decides what is a file, what is the app, what is the API's.
  await app.register(fastifyStatic, { root: base, serve: false })
  app.get('/*', { schema: { hide: true }, config: { rateLimit: false } }, async (request, reply) => {
    const pathname = decodeURIComponent(request.url.split('?')[0] ?? '/')
    if (API_PREFIXES.some((prefix) => pathname === prefix || pathname.startsWith(`${prefix}/`))) return reply.callNotFound()
    const file = path.join(base, pathname)
    if (file.startsWith(`${base}${path.sep}`) && fs.statSync(file, { throwIfNoEntry: false })?.isFile()) {
      // Vite names built assets by content hash: they never change under the same name.
      const immutable = pathname.startsWith('/assets/')
      return reply.sendFile(path.relative(base, file), {
        cacheControl: true,
        maxAge: immutable ? 31_536_000_000 : 0,
        immutable,
      })
    }
    return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false })
  })
}
