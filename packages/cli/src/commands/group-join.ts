/**
 * `dmtp group join`: joins a public room (or a private group you are invited to) at once; asks to
 * join any other private group ("requested"), for a member with `accept_join_request` to approve.
 */
import { Command } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine } from '../output.js'
import { parseId } from '../parsers.js'
import { requireWallet } from '../wallet.js'

/**
 * @example
 * import { groupJoinCommand } from './commands/group-join.js'
 * group.addCommand(groupJoinCommand())
 */
export function groupJoinCommand(): Command {
  return new Command('join')
    .alias('accept')
    .description('Join a room, accept an invitation, or ask to join a private group')
    .requiredOption('--room <id>', 'the room (see `dmtp group search`)', parseId)
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp group join --room AGWwcmrhX9BHfF0JejIEqg  Joined AGWw…
  $ dmtp group join --room AGWw… --json           {"room","status":"member"} or {"room","status":"requested"}

\`dmtp group accept --room ID\` is the same: it accepts an invitation to a private group.
Joining a room you are in changes nothing ("member"). A banned wallet is refused ("banned").`,
    )
    .action(async (options: { room: string }, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      const { status } = await client.rooms.join(options.room)
      if (globals.json) return printJson({ room: options.room, status })
      printLine(
        status === 'member'
          ? `Joined ${options.room}`
          : `Asked to join ${options.room}: a member who can accept join requests will let you in`,
      )
    })
}
