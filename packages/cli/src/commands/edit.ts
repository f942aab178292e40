/**
 * `dmtp edit`: edits one of your messages, in any room: a signed follow-up naming the original;
 * readers show the newest text, marked as edited.
 */
import { Command } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { messageText } from '../message-text.js'
import { printJson, printLine } from '../output.js'
import { parseId } from '../parsers.js'
import { type RoomTarget, targetRoom, withRoomTarget } from '../rooms.js'
import { requireWallet } from '../wallet.js'

/**
 * @example
 * import { editCommand } from './commands/edit.js'
 * program.addCommand(editCommand())
 */
export function editCommand(): Command {
  return withRoomTarget(new Command('edit'))
    .description('Edit one of your messages')
    .requiredOption('--id <id>', 'the message to edit (yours)', parseId)
    .argument('<text...>', 'the new text (several words are joined with spaces), or - to read it from stdin')
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp edit --room AGWwcmrhX9BHfF0JejIEqg --id 3h5Jk… gm, everyone (fixed)
  $ dmtp edit --with 0xB0b… --id 3h5Jk… see you at 6
  $ dmtp edit --room AGWw… --id 3h5Jk… --json new text   {"id","room","target"}

Only its author can edit a message ("forbidden" otherwise).`,
    )
    .action(async (words: string[], options: RoomTarget & { id: string }, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      const room = await targetRoom(client, options)
      const sent = await client.edit(room, options.id, await messageText(words))
      if (globals.json) return printJson({ id: sent.id, room: sent.room, target: options.id })
      printLine(`Edited ${options.id}`)
    })
}
