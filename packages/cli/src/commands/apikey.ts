/**
 * `dmtp apikey create|list|revoke`: the operator's API keys for dApps. It works on the server's
 * database directly (the same `--data DIR` / `DMTP_DATABASE_URL` as `dmtp serve`), so it needs no
 * running server and no wallet. A running server sees a new key at once and a revocation within
 * a few seconds (its cache; docs/api.md, "API keys").
 */
import { createApiKeyRequestSchema } from '@dmtp/protocol'
import { Command } from 'commander'
import { CliError } from '../errors.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine, terminalSafe } from '../output.js'
import { parsePositiveInt } from '../parsers.js'
import { readServerConfig } from '../server-config.js'

type DataOptions = { data?: string }

/**
 * @example
 * import { apiKeyCommand } from './commands/apikey.js'
 * program.addCommand(apiKeyCommand())
 */
export function apiKeyCommand(): Command {
  const command = new Command('apikey')
    .description("Create, list and revoke API keys for dApps (on the server's database; no server needs to run)")
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp apikey create --name "My dApp"           prints the key once; give it to the dApp
  $ dmtp apikey create --name shop --rate 120     at most 120 requests a minute
  $ dmtp apikey list                              every key (never the secret), revoked ones too
  $ dmtp apikey revoke 3h5Jk…                     refused from then on (401 api_key_revoked)
  $ DMTP_DATABASE_URL=postgres://localhost/dmtp dmtp apikey list`,
    )
  command.addCommand(
    withDataOption(new Command('create'))
      .description('Create a key (shown once: only its SHA-256 is stored)')
      .requiredOption('--name <name>', 'what the key is for, shown in lists')
      .option('--rate <n>', 'requests per minute (default: DMTP_API_KEY_RATE_LIMIT, or 600)', parsePositiveInt)
      .addHelpText(
        'after',
        `
Examples:
  $ dmtp apikey create --name "My dApp"           prints the key once; give it to the dApp
  $ dmtp apikey create --name shop --rate 120 --json   {"id","name","key","rateLimitPerMinute","createdAt"}`,
      )
      .action(async (options: DataOptions & { name: string; rate?: number }, sub: Command) => {
        const parsed = createApiKeyRequestSchema.safeParse({ name: options.name, rateLimitPerMinute: options.rate })
        if (!parsed.success) {
          const issue = parsed.error.issues[0]
          throw new CliError({
            code: 'invalid_request',
            message: `--${issue?.path[0] === 'name' ? 'name' : 'rate'}: ${issue?.message ?? 'invalid'}.`,
          })
        }
        await using admin = await openAdmin(options)
        const created = await admin.apiKeys.create({ ...parsed.data, owner: null })
        if (globalOptions(sub).json) return printJson(created)
        printLine(`Created API key ${created.id} "${terminalSafe(created.name)}" (${created.rateLimitPerMinute} requests/min):`)
        printLine(created.key)
        printLine('Keep it now: it is not stored and cannot be shown again.')
      }),
  )
  command.addCommand(
    withDataOption(new Command('list'))
      .description('List every key, operator and wallet-owned, without secrets')
      .addHelpText(
        'after',
        `
Examples:
  $ dmtp apikey list                              every key (never the secret), revoked ones too
  $ dmtp apikey list --json                       [{"id","name","owner","rateLimitPerMinute","createdAt","revokedAt"}]`,
      )
      .action(async (options: DataOptions, sub: Command) => {
        await using admin = await openAdmin(options)
        const keys = await admin.apiKeys.list(undefined)
        if (globalOptions(sub).json) return printJson(keys)
        if (keys.length === 0) return printLine('No API keys. Create one with `dmtp apikey create --name NAME`.')
        for (const key of keys) {
          const state = key.revokedAt ? `revoked ${key.revokedAt}` : 'active'
          const owner = key.owner ?? 'operator'
          printLine(
            `${key.id}  ${terminalSafe(key.name)}  ${key.rateLimitPerMinute}/min  ${owner}  created ${key.createdAt}  ${state}`,
          )
        }
      }),
  )
  command.addCommand(
    withDataOption(new Command('revoke'))
      .description('Revoke a key by its id (see `dmtp apikey list`)')
      .argument('<id>', 'the key id')
      .addHelpText(
        'after',
        `
Examples:
  $ dmtp apikey revoke 3h5Jk…                     refused from then on (401 api_key_revoked)
  $ dmtp apikey revoke 3h5Jk… --json              {"id","revokedAt"}`,
      )
      // Ids are base64url: 1 in 64 starts with "-", which must read as the id, not as an option.
      .allowUnknownOption()
      .action(async (id: string, options: DataOptions, sub: Command) => {
        await using admin = await openAdmin(options)
        const revoked = await admin.apiKeys.revoke(id)
        if (globalOptions(sub).json) return printJson(revoked)
        printLine(`Revoked API key ${revoked.id} at ${revoked.revokedAt}.`)
      }),
  )
  return command
}

function withDataOption(command: Command): Command {
  return command.option('--data <dir>', 'server data directory (default: ./.dmtp-data, env: DMTP_DATA_DIR)')
}

/** The server's database, configured exactly as `dmtp serve` would be. */
async function openAdmin(options: DataOptions) {
  const config = await readServerConfig(({ envToConfig, readEnv }) => envToConfig(readEnv(), { DMTP_DATA_DIR: options.data }))
  const { openApiKeyAdmin } = await import('@dmtp/server')
  return openApiKeyAdmin(config)
}
