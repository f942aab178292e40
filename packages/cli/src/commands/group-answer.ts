/**
 * `dmtp group approve|reject`: answers requests to join a private group (needs
 * `accept_join_request`). One file for both: they differ only in the answer.
 */
import { Command } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine } from '../output.js'
import { collectAddress, parseId } from '../parsers.js'
import { requireWallet } from '../wallet.js'

/**
 * @example
 * import { groupAnswerCommand } from './commands/group-answer.js'
 * group.addCommand(groupAnswerCommand('approve'))
 */
export function groupAnswerCommand(answer: 'approve' | 'reject'): Command {
  const approve = answer === 'approve'
  return new Command(answer)
    .description(approve ? 'Let in wallets that asked to join' : 'Turn down requests to join')
    .requiredOption('--room <id>', 'the room', parseId)
    .requiredOption('--member <address>', 'who (repeat for several)', collectAddress)
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp group members --room AGWwcmrhX9BHfF0JejIEqg --status requested   who asked
  $ dmtp group ${answer} --room AGWw… --member 0xB0b…
  $ dmtp group ${answer} --room AGWw… --member 0xB0b… --json   {"room","members"}

Needs the "accept_join_request" permission (Owners, Admins and Sub Admins).`,
    )
    .action(async (options: { room: string; member: string[] }, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      if (approve) await client.rooms.approve(options.room, options.member)
      else await client.rooms.reject(options.room, options.member)
      if (globals.json) return printJson({ room: options.room, members: options.member })
      printLine(`${approve ? 'Let in' : 'Turned down'} ${options.member.join(', ')} (${options.room})`)
    })
}
