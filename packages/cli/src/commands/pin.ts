/** `dmtp pin`: pins a message to its room (or unpins it with `--unpin`); needs the `pin` permission. */
import { Command } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine } from '../output.js'
import { parseId } from '../parsers.js'
import { type RoomTarget, targetRoom, withRoomTarget } from '../rooms.js'
import { requireWallet } from '../wallet.js'

/**
 * @example
 * import { pinCommand } from './commands/pin.js'
 * program.addCommand(pinCommand())
 */
export function pinCommand(): Command {
  return withRoomTarget(new Command('pin'))
    .description('Pin a message to its room (or unpin it)')
    .requiredOption('--id <id>', 'the message to pin', parseId)
    .option('--unpin', 'unpin it instead')
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp pin --room AGWwcmrhX9BHfF0JejIEqg --id 3h5Jk…
  $ dmtp pin --room AGWw… --id 3h5Jk… --unpin
  $ dmtp pin --room AGWw… --id 3h5Jk… --json            {"id","room","target","pinned"}

In a group this needs the "pin" permission (Owners, Admins and Sub Admins).`,
    )
    .action(async (options: RoomTarget & { id: string; unpin?: boolean }, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      const room = await targetRoom(client, options)
      const pinned = options.unpin !== true
      const sent = await client.pin(room, options.id, { unpin: !pinned })
      if (globals.json) return printJson({ id: sent.id, room: sent.room, target: options.id, pinned })
      printLine(`${pinned ? 'Pinned' : 'Unpinned'} ${options.id}`)
    })
}
