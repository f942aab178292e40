/**
 * `dmtp group role`: gives members a role: owner, admin, sub-admin, member or one of the room's own
 * (`dmtp group define-role`). You need `set_role`, must outrank them, and cannot grant a permission
 * you do not hold.
 */
import { Command } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine, terminalSafe } from '../output.js'
import { collectAddress, parseId } from '../parsers.js'
import { requireWallet } from '../wallet.js'

/**
 * @example
 * import { groupRoleCommand } from './commands/group-role.js'
 * group.addCommand(groupRoleCommand())
 */
export function groupRoleCommand(): Command {
  return new Command('role')
    .description('Give members a role')
    .requiredOption('--room <id>', 'the room', parseId)
    .requiredOption('--member <address>', 'who (repeat for several)', collectAddress)
    .requiredOption('--role <role>', 'owner, admin, sub-admin, member, or a role of the room')
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp group role --room AGWwcmrhX9BHfF0JejIEqg --member 0xB0b… --role admin
  $ dmtp group role --room AGWw… --member 0xB0b… --member 0xCa401… --role moderator
  $ dmtp group role --room AGWw… --member 0xB0b… --role member --json   {"room","members","role"}

Built-in roles, highest first: owner (everything), admin (all but delete_room), sub-admin (send,
send_links, react, invite, accept_join_request, mute, unmute, pin), member (send, react, invite).`,
    )
    .action(async (options: { room: string; member: string[]; role: string }, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      await client.rooms.setRole(options.room, options.member, options.role)
      if (globals.json) return printJson({ room: options.room, members: options.member, role: options.role })
      printLine(terminalSafe(`Made ${options.member.join(', ')} ${options.role} in ${options.room}`))
    })
}
