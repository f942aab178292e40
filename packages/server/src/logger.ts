/**
 * pino loggers, one per subsystem. Logs carry addresses, ids, CIDs, counts and timings, never
 * message content or key material: request bodies are not logged, and the redaction list below
 * drops the headers and fields that could carry tokens or keys if someone logs them by mistake.
 */
import { type DestinationStream, type Logger, pino } from 'pino'
import type { ServerConfig } from './config/config.js'

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-dmtp-api-key"]',
  'req.headers.cookie',
  '*.token',
  '*.envelope',
  '*.messages',
  '*.bundle',
  '*.DMTPpriKey',
  '*.signature',
]

/** A request URL fit for logs: the stream's `?apiKey=` (a secret) masked. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]apiKey=)[^&#]*/gi, '$1[redacted]')
}

type LoggedRequest = {
  method: string
  url: string
  host?: string
  ip?: string
  socket?: { remotePort?: number }
}

/**
 * Fastify's request serializer, with the stream's `?apiKey=` (a secret: browsers cannot send it
 * as a header) masked in the logged URL. Request URLs name wallets (`/v1/keys/0x…`), so the
 * client's IP and port are logged only at `debug` and `trace`: at `info` a log never ties a
 * wallet to an IP (docs/metadata.md).
 */
function requestSerializer(withClientAddress: boolean) {
  return (request: LoggedRequest) => ({
    method: request.method,
    url: redactUrl(request.url),
    host: request.host,
    ...(withClientAddress ? { remoteAddress: request.ip, remotePort: request.socket?.remotePort } : {}),
  })
}

export function createLogger(config: ServerConfig['log'], destination?: DestinationStream): Logger {
  return pino(
    {
      level: config.level,
      base: { service: 'dmtp' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: { req: requestSerializer(config.level === 'debug' || config.level === 'trace') },
    },
    destination,
  )
}

export type { Logger }
