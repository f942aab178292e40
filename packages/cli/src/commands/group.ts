/**
 * `dmtp group …`: public rooms and private groups: create, find, join and leave them, list their
 * members and signed membership log, and moderate them (roles, kick, ban, mute). Messages in a
 * group go through `dmtp send --room`, `dmtp read --room`, `dmtp react|edit|recall|pin --room`.
 */
import { Command } from 'commander'
import { groupAnswerCommand } from './group-answer.js'
import { groupCreateCommand } from './group-create.js'
import { groupDefineRoleCommand } from './group-define-role.js'
import { groupDeleteCommand } from './group-delete.js'
import { groupE2eeCommand, groupRotateCommand } from './group-e2ee.js'
import { groupInfoCommand } from './group-info.js'
import { groupInviteCommand } from './group-invite.js'
import { groupJoinCommand } from './group-join.js'
import { groupLeaveCommand } from './group-leave.js'
import { groupLinkCommand } from './group-link.js'
import { groupListCommand } from './group-list.js'
import { groupLogCommand } from './group-log.js'
import { groupMembersCommand } from './group-members.js'
import { groupModerateCommand } from './group-moderate.js'
import { groupRoleCommand } from './group-role.js'
import { groupSearchCommand } from './group-search.js'
import { groupUpdateCommand } from './group-update.js'

/**
 * @example
 * import { groupCommand } from './commands/group.js'
 * program.addCommand(groupCommand())
 */
export function groupCommand(): Command {
  const command = new Command('group')
    .description('Public rooms and private groups: create, find, join, members, roles, moderation')
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp group create --name "DMTP builders" --type public      prints the room id
  $ dmtp group search builders                                  public rooms, largest first
  $ dmtp group join --room AGWwcmrhX9BHfF0JejIEqg
  $ dmtp send --room AGWw… gm, builders                         then read --room, react, edit, recall
  $ dmtp group list                                             your groups, with unread counts
  $ dmtp group members --room AGWw…
  $ dmtp group link create AGWw… --expires 7d                  an invite link to a private group
  $ dmtp group role --room AGWw… --member 0xB0b… --role admin
  $ dmtp group mute --room AGWw… --member 0xB0b… --for 30m
  $ dmtp group log --room AGWw…                                 the signed membership log, verified here

Private groups are end-to-end encrypted (dmtp group e2ee on|off); public rooms are not: the
server and the room's readers see every message. Every message is signed by its sender, and the
membership log by whoever changed it.
Refusals come with a stable code: room_not_found, not_member, banned, muted, forbidden (the
message names the permission your role lacks).`,
    )
  for (const sub of [
    groupCreateCommand(),
    groupSearchCommand(),
    groupListCommand(),
    groupInfoCommand(),
    groupJoinCommand(),
    groupLeaveCommand(),
    groupMembersCommand(),
    groupInviteCommand(),
    groupLinkCommand(),
    groupAnswerCommand('approve'),
    groupAnswerCommand('reject'),
    groupRoleCommand(),
    groupDefineRoleCommand(),
    ...(['kick', 'ban', 'unban', 'mute', 'unmute'] as const).map(groupModerateCommand),
    groupUpdateCommand(),
    groupE2eeCommand(),
    groupRotateCommand(),
    groupLogCommand(),
    groupDeleteCommand(),
  ]) {
    command.addCommand(sub)
  }
  return command
}
