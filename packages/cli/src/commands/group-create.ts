/**
 * `dmtp group create`: a public room (anyone can find, join, read and post; not end-to-end
 * encrypted, every message signed) or a private group (by invitation or approval; end-to-end
 * encrypted unless `--no-e2ee`, its first key made here). You are its Owner; the signed `create`
 * event starts its membership log.
 */
import { Command, Option } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine, terminalSafe } from '../output.js'
import { roomTypeLabel } from '../rooms.js'
import { requireWallet } from '../wallet.js'

type CreateOptions = {
  name: string
  type: 'public' | 'private'
  description?: string
  announce?: boolean
  e2ee: boolean
  plain?: boolean
}

/**
 * @example
 * import { groupCreateCommand } from './commands/group-create.js'
 * group.addCommand(groupCreateCommand())
 */
export function groupCreateCommand(): Command {
  return new Command('create')
    .description('Create a public room or a private group (you are its Owner)')
    .requiredOption('--name <name>', 'its name, shown to everyone who finds or joins it')
    .addOption(
      new Option('--type <type>', 'public: anyone can find and join; private: by invitation or approval')
        .choices(['public', 'private'])
        .makeOptionMandatory(),
    )
    .option('--description <text>', 'what it is about (searched, for public rooms)')
    .option('--announce', 'announcement-only: Members read, only Sub Admins and up post')
    .option('--no-e2ee', 'a private group without end-to-end encryption (the server reads it)')
    .option('--plain', 'a private group whose members may still send a message in plaintext (send --plain)')
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp group create --name "DMTP builders" --type public --description "all about DMTP"
  $ dmtp group create --name core-team --type private
  $ dmtp group create --name news --type public --announce --json   {"room","type","name","description","announce",
                                                                    "e2ee","epoch"}

A private group is end-to-end encrypted: only its members can read it; each member's key comes
wrapped to that member, and a new key is made before the next message whenever someone leaves,
is removed or joins. A public room is not: the server and its readers see every message, each
signed by its sender. Share the room id ("room") for others to join or be invited.`,
    )
    .action(async (options: CreateOptions, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      const { room } = await client.rooms.create({
        type: options.type,
        name: options.name,
        description: options.description,
        announce: options.announce === true,
        ...(options.type === 'private' ? { e2ee: options.e2ee, plain: options.plain === true } : {}),
      })
      const { id, type, name, description, announce, encryption } = room
      const e2ee = encryption?.e2ee ?? false
      if (globals.json) {
        return printJson({ room: id, type, name, description, announce, e2ee, epoch: encryption?.epoch ?? null })
      }
      printLine(terminalSafe(`Created ${type === 'public' ? 'the public room' : 'the private group'} "${name}" ${id}`))
      printLine(`  ${roomTypeLabel(type, e2ee)}${announce ? '; announcement-only' : ''}; you are its owner`)
    })
}
