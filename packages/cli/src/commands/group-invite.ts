/** `dmtp group invite`: invites wallets to a room (needs `invite`); they join with `dmtp group join`. */
import { DEFAULT_INVITATION_MS } from '@dmtp/sdk'
import { Command } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine } from '../output.js'
import { collectAddress, parseDuration, parseId } from '../parsers.js'
import { requireWallet } from '../wallet.js'

/**
 * @example
 * import { groupInviteCommand } from './commands/group-invite.js'
 * group.addCommand(groupInviteCommand())
 */
export function groupInviteCommand(): Command {
  return new Command('invite')
    .description('Invite wallets to a room (they join with `dmtp group join`)')
    .requiredOption('--room <id>', 'the room', parseId)
    .requiredOption('--member <address>', 'who (repeat for several)', collectAddress)
    .option('--expires <duration>', 'they must join within: 30m, 2h, 7d (default 7d)', parseDuration)
    .option('--no-expiry', 'the invitation does not lapse')
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp group invite --room AGWwcmrhX9BHfF0JejIEqg --member 0xB0b…
  $ dmtp group invite --room AGWw… --member 0xB0b… --member 0xCa401… --json   {"room","members","until"}
  $ dmtp group invite --room AGWw… --member 0xB0b… --expires 2h

They see it at once if online, and in \`dmtp group list --invited\` until it lapses. Needs the "invite" permission (every built-in role has it).`,
    )
    .action(async (options: { room: string; member: string[]; expires?: number; expiry: boolean }, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      const expiresInMs = options.expiry ? (options.expires ?? DEFAULT_INVITATION_MS) : null
      const { until } = await client.rooms.invite(options.room, options.member, { expiresInMs })
      if (globals.json) return printJson({ room: options.room, members: options.member, until })
      printLine(`Invited ${options.member.join(', ')} to ${options.room}${until ? ` (until ${until})` : ''}`)
    })
}
