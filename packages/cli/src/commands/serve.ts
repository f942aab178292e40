/**
 * `dmtp serve`: runs a DMTP server until SIGINT/SIGTERM, then stops it cleanly. Configuration is
 * the server's own (`DMTP_*` variables, see `@dmtp/server`), with the flags taking precedence.
 * Server logs go to stderr, so stdout carries only the listening line (or its JSON).
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Command } from 'commander'
import { CliError } from '../errors.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine } from '../output.js'
import { parsePort, parsePositiveInt, parsePositiveSeconds } from '../parsers.js'
import { readServerConfig } from '../server-config.js'
import { untilSignal } from '../until-signal.js'

type ServeOptions = { port?: number; host?: string; data?: string; syncInterval?: number; syncEvery?: number }

/**
 * @example
 * import { serveCommand } from './commands/serve.js'
 * program.addCommand(serveCommand())
 */
export function serveCommand(): Command {
  return new Command('serve')
    .description('Run a DMTP server (SQLite in the data directory, or PostgreSQL with DMTP_DATABASE_URL)')
    .option('--port <port>', 'port to listen on, 0 for any free port (default: 8787, env: DMTP_PORT)', parsePort)
    .option('--host <host>', 'interface to bind (default: 127.0.0.1, env: DMTP_HOST)')
    .option('--data <dir>', 'data directory (default: ./.dmtp-data, env: DMTP_DATA_DIR)')
    .option(
      '--sync-interval <seconds>',
      'anchor new messages at least this often (default: 300, env: DMTP_SYNC_INTERVAL)',
      parsePositiveSeconds,
    )
    .option('--sync-every <n>', 'or as soon as this many are waiting (default: 10000, env: DMTP_SYNC_EVERY)', parsePositiveInt)
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp serve                                   http://localhost:8787, data in ./.dmtp-data
  $ dmtp serve --port 9000 --host 0.0.0.0 --data /var/lib/dmtp
  $ DMTP_DATABASE_URL=postgres://localhost/dmtp dmtp serve
  $ dmtp serve --port 0 --json                   any free port; prints {"url","dataDir","database","chain"}
  $ dmtp serve --sync-interval 10 --sync-every 100   anchor often (a local chain costs nothing)
  $ DMTP_CHAIN_RPC=https://rpc-amoy.polygon.technology DMTP_CHAIN_ID=80002 \\
    DMTP_OPERATOR_KEY_FILE=./operator.key dmtp serve   anchor on Polygon Amoy instead of the embedded anvil`,
    )
    .action(async (options: ServeOptions, command: Command) => {
      const { json } = globalOptions(command)
      const { config, secrets } = await readServerConfig(({ envToConfig, envToSecrets, readEnv }) => {
        const env = readEnv()
        const config = envToConfig(env, {
          DMTP_PORT: options.port,
          DMTP_HOST: options.host,
          DMTP_DATA_DIR: options.data,
          DMTP_SYNC_INTERVAL: options.syncInterval,
          DMTP_SYNC_EVERY: options.syncEvery,
        })
        return { config, secrets: envToSecrets(env, config) }
      })
      const { Server } = await import('@dmtp/server')
      const webRoot = webAppDir()
      const server = await Server.create(config, secrets, { logDestination: process.stderr, ...(webRoot ? { webRoot } : {}) })
      let url: string
      try {
        url = await server.start()
      } catch (error) {
        await server.destroy()
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error
        throw new CliError({
          code: 'address_in_use',
          message: `Port ${config.service.port} on ${config.service.host} is already in use.`,
          metaMessages: ['Stop the other server, or pick another port with --port.'],
        })
      }
      const chain = server.ctx.chain?.info ?? null
      // @NOTE On stderr, so the stdout contract (the listening line, or its JSON) stays as it was.
      process.stderr.write(
        webRoot ? `Web app: open ${url}/ in a browser\n` : 'Web app not built (run `npm run build`): serving the API only\n',
      )
      if (json) printJson({ url, dataDir: config.dataDir, database: config.db.provider, chain })
      else {
        printLine(`DMTP server listening on ${url}`)
        if (chain) printLine(`Anchoring on chain ${chain.chainId} at ${chain.rpcUrl}, registry ${chain.registry}`)
      }
      await untilSignal()
      await server.destroy()
    })
}

/** The web app's build (packages/web/dist), when it has been built. */
function webAppDir(): string | undefined {
  try {
    const dir = path.join(path.dirname(fileURLToPath(import.meta.resolve('@dmtp/web/package.json'))), 'dist')
    return fs.existsSync(path.join(dir, 'index.html')) ? dir : undefined
  } catch {
    return undefined
  }
}
