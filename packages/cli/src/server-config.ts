/**
 * The server's configuration as the commands that run it or open its data read it (`dmtp serve`,
 * `dmtp apikey`): `DMTP_*` variables plus flags, with a bad value reported as `invalid_config`.
 */
import { CliError } from './errors.js'

type ServerModule = typeof import('@dmtp/server')

/**
 * Loads `@dmtp/server` (here, not at the top: its dependencies would slow every other command)
 * and runs `read` with it.
 * @throws {CliError} `invalid_config` when `read` throws the server's ConfigError.
 * @example
 * const config = await readServerConfig(({ envToConfig, readEnv }) => envToConfig(readEnv(), { DMTP_DATA_DIR: dir }))
 */
export async function readServerConfig<T>(read: (server: ServerModule) => T): Promise<T> {
  const server = await import('@dmtp/server')
  try {
    return read(server)
  } catch (error) {
    if (error instanceof server.ConfigError) throw new CliError({ code: 'invalid_config', message: error.message })
    throw error
  }
}
