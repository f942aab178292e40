/**
 * `dmtp group define-role`: defines (or redefines) a role of the room's own with the permissions
 * given, or removes one (`--remove`: its holders become members). Needs `set_role`; you cannot
 * grant a permission you do not hold.
 */
import { isPermission, PERMISSIONS, type Permission } from '@dmtp/protocol'
import { Command, InvalidArgumentError, Option } from 'commander'
import { connect } from '../connect.js'
import { usageError } from '../errors.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine } from '../output.js'
import { parseId } from '../parsers.js'
import { requireWallet } from '../wallet.js'

type DefineRoleOptions = { room: string; role: string; permissions?: Permission[]; remove?: boolean }

/**
 * @example
 * import { groupDefineRoleCommand } from './commands/group-define-role.js'
 * group.addCommand(groupDefineRoleCommand())
 */
export function groupDefineRoleCommand(): Command {
  return new Command('define-role')
    .description("Define a role of the room's own, with its permissions (or remove it)")
    .requiredOption('--room <id>', 'the room', parseId)
    .requiredOption('--role <name>', 'lower case letters, digits, - and _ (at most 32)')
    .addOption(
      new Option('--permissions <list>', `comma-separated, of: ${PERMISSIONS.join(', ')}`)
        .argParser(parsePermissions)
        .conflicts('remove'),
    )
    .option('--remove', 'remove the role; its holders become members')
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp group define-role --room AGWwcmrhX9BHfF0JejIEqg --role moderator --permissions send,react,kick,mute,unmute
  $ dmtp group define-role --room AGWw… --role moderator --remove
  $ dmtp group define-role --room AGWw… --role helper --permissions send --json   {"room","role","permissions"}

Then \`dmtp group role --room ID --member 0xB0b… --role moderator\`. A role of the room's own
ranks between sub-admin and member.`,
    )
    .action(async (options: DefineRoleOptions, command: Command) => {
      const globals = globalOptions(command)
      if (!options.permissions && !options.remove) throw usageError('pass --permissions <list> or --remove (one of them)')
      const client = connect(globals, requireWallet(globals))
      const permissions = options.remove ? null : (options.permissions as Permission[])
      await client.rooms.defineRole(options.room, options.role, permissions)
      if (globals.json) return printJson({ room: options.room, role: options.role, permissions })
      printLine(
        permissions === null
          ? `Removed the role ${options.role} from ${options.room}`
          : `Defined the role ${options.role} in ${options.room}: ${permissions.join(', ') || 'no permissions'}`,
      )
    })
}

function parsePermissions(value: string): Permission[] {
  const list = value
    .split(',')
    .map((permission) => permission.trim())
    .filter(Boolean)
  const unknown = list.find((permission) => !isPermission(permission))
  if (unknown !== undefined)
    throw new InvalidArgumentError(`"${unknown}" is not a permission; expected some of ${PERMISSIONS.join(', ')}.`)
  return list as Permission[]
}
