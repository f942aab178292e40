/**
 * `dmtp group e2ee on|off`: turns end-to-end encryption of a private group on (its next key is
 * made here at once) or off (`e2ee_on` / `e2ee_off` permissions; a signed log event either way).
 * `dmtp group rotate`: makes the group's next key now (sending does it by itself when due).
 */
import { Argument, Command } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine } from '../output.js'
import { parseId } from '../parsers.js'
import { requireWallet } from '../wallet.js'

type E2eeOptions = { room: string; plain?: boolean }

/**
 * @example
 * import { groupE2eeCommand } from './commands/group-e2ee.js'
 * group.addCommand(groupE2eeCommand())
 */
export function groupE2eeCommand(): Command {
  return new Command('e2ee')
    .description('Turn end-to-end encryption of a private group on or off')
    .addArgument(new Argument('<state>', 'on or off').choices(['on', 'off']))
    .requiredOption('--room <id>', 'the private group', parseId)
    .option('--plain', 'with on: members may still send a message in plaintext (dmtp send --plain)')
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp group e2ee on --room AGWwcmrhX9BHfF0JejIEqg    E2EE on in AGWw…: epoch 1
  $ dmtp group e2ee off --room AGWw… --json            {"room","e2ee":false,"plain":false,"epoch"}

On needs the "e2ee_on" permission (Owner, Admin), off needs "e2ee_off" (Owner). While it is on,
the server refuses plaintext messages unless the group allows them (--plain); while it is off,
new messages are readable by the server and encrypted ones are refused (e2ee_off).`,
    )
    .action(async (state: 'on' | 'off', options: E2eeOptions, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      await client.rooms.get(options.room)
      const encryption = await client.rooms.setEncryption(options.room, state === 'on', { plain: options.plain === true })
      if (globals.json)
        return printJson({ room: options.room, e2ee: encryption.e2ee, plain: encryption.plain, epoch: encryption.epoch })
      printLine(
        encryption.e2ee
          ? `E2EE on in ${options.room}: epoch ${encryption.epoch}${encryption.plain ? '; members may send plaintext' : ''}`
          : `E2EE off in ${options.room}: new messages can be read by the server`,
      )
    })
}

/**
 * @example
 * import { groupRotateCommand } from './commands/group-e2ee.js'
 * group.addCommand(groupRotateCommand())
 */
export function groupRotateCommand(): Command {
  return new Command('rotate')
    .description("Make a private group's next key now, wrapped to every member")
    .requiredOption('--room <id>', 'the private group', parseId)
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp group rotate --room AGWwcmrhX9BHfF0JejIEqg    Rotated AGWw…: epoch 3
  $ dmtp group rotate --room AGWw… --json             {"room","epoch"}

Sending rotates by itself when a member left, was removed or joined, or the key is old.`,
    )
    .action(async (options: { room: string }, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      await client.rooms.get(options.room)
      const { epoch } = await client.rooms.rotateKey(options.room)
      if (globals.json) return printJson({ room: options.room, epoch })
      printLine(`Rotated ${options.room}: epoch ${epoch}`)
    })
}
