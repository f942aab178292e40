/** `dmtp group invite`: invites wallets to a room (needs `invite`); they join with `dmtp group join`. */
import { Command } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine } from '../output.js'
import { collectAddress, parseId } from '../parsers.js'
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
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp group invite --room AGWwcmrhX9BHfF0JejIEqg --member 0xB0b…
  $ dmtp group invite --room AGWw… --member 0xB0b… --member 0xCa401… --json   {"room","members"}

They see it in \`dmtp group list --invited\`. Needs the "invite" permission (every built-in role has it).`,
    )
    .action(async (options: { room: string; member: string[] }, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      await client.rooms.invite(options.room, options.member)
      if (globals.json) return printJson({ room: options.room, members: options.member })
      printLine(`Invited ${options.member.join(', ')} to ${options.room}`)
    })
}
