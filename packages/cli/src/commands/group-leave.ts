/**
 * `dmtp group leave`: leaves a room (or withdraws an invitation or a request to join). The last
 * Owner's ownership passes to the most senior member; the last member's leaving ends the room.
 */
import { Command } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine } from '../output.js'
import { parseId } from '../parsers.js'
import { requireWallet } from '../wallet.js'

/**
 * @example
 * import { groupLeaveCommand } from './commands/group-leave.js'
 * group.addCommand(groupLeaveCommand())
 */
export function groupLeaveCommand(): Command {
  return new Command('leave')
    .description('Leave a room (or withdraw an invitation or a request to join)')
    .requiredOption('--room <id>', 'the room', parseId)
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp group leave --room AGWwcmrhX9BHfF0JejIEqg  Left AGWw…
  $ dmtp group leave --room AGWw… --json           {"room","left":true}

If you are its last Owner, the most senior member becomes Owner.`,
    )
    .action(async (options: { room: string }, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      // @NOTE Loads the room's log first. The SDK applies the entry its event made to the log it
      // replays, and fetches the whole log when none is loaded yet: after a delete (or leaving a
      // private group) that fetch is refused, and the SDK reports room_not_found for an event that
      // took effect.
      await client.rooms.get(options.room)
      await client.rooms.leave(options.room)
      if (globals.json) return printJson({ room: options.room, left: true })
      printLine(`Left ${options.room}`)
    })
}
