/**
 * `dmtp group link create|join|list|revoke`: invite links of private groups
 * (docs/private-groups.md §6). A member with `invite` makes a signed link (`dmtp-invite:…`) the
 * server counts uses of; whoever holds it joins with it (or asks to, for a link with approval).
 */
import { Command } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine } from '../output.js'
import { parseDuration, parseId, parsePositiveInt } from '../parsers.js'
import { requireWallet } from '../wallet.js'

type CreateOptions = { expires?: number | 'never'; maxUses?: number; approval?: boolean }

/** `--expires`: a duration (`7d`), or `never` (until revoked). */
function parseExpiry(value: string): number | 'never' {
  return value === 'never' ? 'never' : parseDuration(value)
}

/**
 * @example
 * import { groupLinkCommand } from './commands/group-link.js'
 * group.addCommand(groupLinkCommand())
 */
export function groupLinkCommand(): Command {
  const command = new Command('link').description('Invite links of private groups: create, join with, list, revoke').addHelpText(
    'after',
    `
Examples:
  $ dmtp group link create AGWwcmrhX9BHfF0JejIEqg --max-uses 10     prints dmtp-invite:…
  $ dmtp group link join dmtp-invite:eyJhcHByb3ZhbCI6…               Joined AGWw…
  $ dmtp group link list AGWw…                                      uses and limits of each link
  $ dmtp group link revoke AGWw… bGluay1pZC0wMDAwMDAwMQ

A link is a bearer token: whoever holds it may join until it expires, is used up or revoked.`,
  )
  command.addCommand(
    new Command('create')
      .description('Make an invite link to a private group (needs the "invite" permission)')
      .argument('<room>', 'the private group', parseId)
      .option('--expires <duration>', 'how long it lasts: 30m, 12h, 7d (the default)…, or never', parseExpiry)
      .option('--max-uses <n>', 'how many wallets may use it (default: no limit)', parsePositiveInt)
      .option('--approval', 'using it only asks to join; a member with "accept_join_request" approves')
      .addHelpText(
        'after',
        `
Examples:
  $ dmtp group link create AGWwcmrhX9BHfF0JejIEqg                  valid 7 days, any number of uses
  $ dmtp group link create AGWw… --expires 1d --max-uses 1          for one wallet, within a day
  $ dmtp group link create AGWw… --approval --expires never --json  {"room","id","text","expiresAt","maxUses","approval"}`,
      )
      // Room ids are base64url: 1 in 64 starts with "-", which must read as the id, not as an option.
      .allowUnknownOption()
      .action(async (room: string, options: CreateOptions, sub: Command) => {
        const globals = globalOptions(sub)
        const client = connect(globals, requireWallet(globals))
        const { link, text } = await client.rooms.createLink(room, {
          expiresIn: options.expires === undefined ? undefined : options.expires === 'never' ? null : options.expires / 1000,
          maxUses: options.maxUses ?? null,
          approval: options.approval === true,
        })
        const { id, expiresAt, maxUses, approval } = link
        if (globals.json) return printJson({ room, id, text, expiresAt, maxUses, approval })
        printLine(text)
      }),
  )
  command.addCommand(
    new Command('join')
      .description('Join the private group an invite link names (or ask to, for a link with approval)')
      .argument('<link>', 'the dmtp-invite:… text')
      .addHelpText(
        'after',
        `
Examples:
  $ dmtp group link join dmtp-invite:eyJhcHByb3ZhbCI6…           Joined AGWw…
  $ dmtp group link join dmtp-invite:eyJh… --json                {"room","status":"member"} or {"room","status":"requested"}

The link's signature is checked here before anything is sent. Refusals: link_not_found,
link_revoked, link_expired, link_used_up, banned, invalid_signature.`,
      )
      .action(async (text: string, _options: unknown, sub: Command) => {
        const globals = globalOptions(sub)
        const client = connect(globals, requireWallet(globals))
        const { room, status } = await client.rooms.joinByLink(text)
        if (globals.json) return printJson({ room, status })
        printLine(
          status === 'member' ? `Joined ${room}` : `Asked to join ${room}: a member who can accept join requests will let you in`,
        )
      }),
  )
  command.addCommand(
    new Command('list')
      .description('A private group\'s invite links, newest first (needs the "invite" permission)')
      .argument('<room>', 'the private group', parseId)
      .addHelpText(
        'after',
        `
Examples:
  $ dmtp group link list AGWwcmrhX9BHfF0JejIEqg
  $ dmtp group link list AGWw… --json     [{"id","issuer","uses","maxUses","expiresAt","approval","revoked","text"}]`,
      )
      .allowUnknownOption()
      .action(async (room: string, _options: unknown, sub: Command) => {
        const globals = globalOptions(sub)
        const client = connect(globals, requireWallet(globals))
        const links = await client.rooms.links(room)
        if (globals.json) {
          return printJson(
            links.map(({ id, issuer, uses, maxUses, expiresAt, approval, revoked, text }) => ({
              id,
              issuer,
              uses,
              maxUses,
              expiresAt,
              approval,
              revoked,
              text,
            })),
          )
        }
        if (links.length === 0) return printLine(`No invite links. Make one with \`dmtp group link create ${room}\`.`)
        for (const link of links) {
          const state = link.revoked ? 'revoked' : link.expiresAt ? `expires ${link.expiresAt}` : 'no expiry'
          const uses = `${link.uses}/${link.maxUses ?? '∞'} uses`
          printLine(`${link.id}  ${uses}  ${state}${link.approval ? '  approval' : ''}  by ${link.issuer}`)
        }
      }),
  )
  command.addCommand(
    new Command('revoke')
      .description('Revoke an invite link at once (its issuer, or a member with "invite")')
      .argument('<room>', 'the private group', parseId)
      .argument('<id>', 'the link id (see `dmtp group link list`)', parseId)
      .addHelpText(
        'after',
        `
Examples:
  $ dmtp group link revoke AGWwcmrhX9BHfF0JejIEqg bGluay1pZC0wMDAwMDAwMQ    joins with it are refused (link_revoked)
  $ dmtp group link revoke AGWw… bGluay1p… --json                           {"room","id","revoked":true}`,
      )
      .allowUnknownOption()
      .action(async (room: string, id: string, _options: unknown, sub: Command) => {
        const globals = globalOptions(sub)
        const client = connect(globals, requireWallet(globals))
        const link = await client.rooms.revokeLink(room, id)
        if (globals.json) return printJson({ room, id, revoked: link.revoked })
        printLine(`Revoked invite link ${id} of ${room}`)
      }),
  )
  return command
}
