/**
 * `dmtp group kick|ban|unban|mute|unmute`: moderation, on named members (`--member`, repeated) or
 * on everyone your role outranks who lacks the permission (`--all`); a ban or mute can lift by
 * itself (`--for 30m`). Each is one signed log event (several for more members than an event
 * holds), in force at once, on open connections too. One file for the five: they differ only in
 * their words and in which take `--for`.
 */
import { MAX_EVENT_MEMBERS } from '@dmtp/protocol'
import type { DmtpClient, ModerationAction } from '@dmtp/sdk'
import { Command, Option } from 'commander'
import { connect } from '../connect.js'
import { usageError } from '../errors.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine } from '../output.js'
import { collectAddress, parseDuration, parseId } from '../parsers.js'
import { requireWallet } from '../wallet.js'

type ModerateOptions = { room: string; member?: string[]; all?: boolean; for?: number; removeMessages?: boolean }

const ACTIONS: Record<ModerationAction, { description: string; done: string; timed: boolean; example: string }> = {
  kick: {
    description: 'Remove members from a room (they may join again)',
    done: 'Removed',
    timed: false,
    example: 'removed; a public room lets them join again',
  },
  ban: {
    description: 'Ban members: removed, and refused ("banned") if they try to join again',
    done: 'Banned',
    timed: true,
    example: 'for a week, then the ban lifts by itself',
  },
  unban: {
    description: 'Lift bans',
    done: 'Lifted the ban on',
    timed: false,
    example: 'they may join again',
  },
  mute: {
    description: 'Mute members: they stay and read, but cannot post ("muted")',
    done: 'Muted',
    timed: true,
    example: 'for 30 minutes, then they may post again',
  },
  unmute: {
    description: 'Let muted members post again',
    done: 'Unmuted',
    timed: false,
    example: 'at once',
  },
}

/**
 * @example
 * import { groupModerateCommand } from './commands/group-moderate.js'
 * for (const action of ['kick', 'ban', 'unban', 'mute', 'unmute'] as const) group.addCommand(groupModerateCommand(action))
 */
export function groupModerateCommand(action: ModerationAction): Command {
  const { description, done, timed, example } = ACTIONS[action]
  const command = new Command(action)
    .description(description)
    .requiredOption('--room <id>', 'the room', parseId)
    .addOption(new Option('--member <address>', 'who (repeat for several)').argParser(collectAddress).conflicts('all'))
    .option(
      '--all',
      action === 'unban' ? 'everyone banned' : `everyone your role outranks who cannot ${action} (not those who can)`,
    )
  if (timed)
    command.option('--for <duration>', 'lifts by itself after this long: 30s, 10m, 2h, 7d (default: for good)', parseDuration)
  if (action === 'ban') command.option('--remove-messages', 'also recall their messages (needs "recall_others")')
  return command
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp group ${action} --room AGWwcmrhX9BHfF0JejIEqg --member 0xB0b…${timed ? (action === 'ban' ? ' --for 7d' : ' --for 30m') : ''}
                                                  ${example}
  $ dmtp group ${action} --room AGWw… --member 0xB0b… --member 0xCa401…
  $ dmtp group ${action} --room AGWw… --all
  $ dmtp group ${action} --room AGWw… --member 0xB0b… --json   {"room","action","members"${timed ? ',"until"' : ''}}

--member and --all go alone ("members" is "all" then). Needs the "${action}" permission, and a role
above each member's ("forbidden" otherwise, naming what is missing).`,
    )
    .action(async (options: ModerateOptions, sub: Command) => {
      const globals = globalOptions(sub)
      if (!options.member && !options.all) throw usageError('pass --member <address> (repeat for several) or --all')
      const client = connect(globals, requireWallet(globals))
      const until = options.for === undefined ? null : new Date(Date.now() + options.for).toISOString()
      const extra = { ...(until ? { until } : {}), ...(options.removeMessages ? { removeMessages: true } : {}) }
      // The protocol lifts bans by name only: "all" is everyone banned now, named.
      const members = action === 'unban' && options.all ? await banned(client, options.room) : options.member
      if (members === undefined) await client.rooms.moderate({ room: options.room, action, all: true, ...extra })
      for (let i = 0; members && i < members.length; i += MAX_EVENT_MEMBERS) {
        const chunk = members.slice(i, i + MAX_EVENT_MEMBERS)
        await client.rooms.moderate({ room: options.room, action, members: chunk, ...extra })
      }
      if (globals.json) return printJson({ room: options.room, action, members: members ?? 'all', ...(timed ? { until } : {}) })
      if (members?.length === 0) return printLine(`No one is banned in ${options.room}`)
      const whom = members ? members.join(', ') : 'everyone it applies to'
      printLine(`${done} ${whom} in ${options.room}${timed ? (until ? ` until ${until}` : ' for good') : ''}`)
    })
}

/** Every address banned in the room. */
async function banned(client: DmtpClient, room: string): Promise<string[]> {
  const addresses: string[] = []
  let after: string | undefined
  do {
    const page = await client.rooms.members(room, { status: 'banned', after, limit: 500 })
    addresses.push(...page.members.map((member) => member.address))
    after = page.next ?? undefined
  } while (after !== undefined)
  return addresses
}
