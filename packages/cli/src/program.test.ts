import type { Command } from 'commander'
import { describe, expect, test } from 'vitest'
import { createProgram } from './program.js'

/** Every command and subcommand, with its full name (`group mute`). */
function commands(command: Command, prefix = ''): [string, Command][] {
  return command.commands.flatMap((sub) => {
    const name = `${prefix}${sub.name()}`
    return [[name, sub] as [string, Command], ...commands(sub, `${name} `)]
  })
}

function helpOf(command: Command): string {
  let text = ''
  command.configureOutput({
    writeOut: (chunk) => {
      text += chunk
    },
  })
  command.outputHelp()
  return text
}

describe('createProgram', () => {
  test('default: every command has help with examples that use it', () => {
    const all = commands(createProgram())
    expect(all.map(([name]) => name)).toMatchInlineSnapshot(`
      [
        "serve",
        "setup",
        "send",
        "migrate",
        "read",
        "react",
        "edit",
        "recall",
        "pin",
        "group",
        "group create",
        "group search",
        "group list",
        "group info",
        "group join",
        "group leave",
        "group members",
        "group invite",
        "group link",
        "group link create",
        "group link join",
        "group link list",
        "group link revoke",
        "group approve",
        "group reject",
        "group role",
        "group define-role",
        "group kick",
        "group ban",
        "group unban",
        "group mute",
        "group unmute",
        "group update",
        "group e2ee",
        "group rotate",
        "group log",
        "group delete",
        "whois",
        "verify",
        "recover",
        "apikey",
        "apikey create",
        "apikey list",
        "apikey revoke",
      ]
    `)
    for (const [name, command] of all) {
      const help = helpOf(command)
      expect(help, name).toContain(`Usage: dmtp ${name}`)
      expect(help, name).toContain('Examples:')
      expect(help, name).toContain(`$ dmtp ${name}`)
    }
  })

  test('behavior: the top-level help shows groups and room messages', () => {
    const help = helpOf(createProgram())
    for (const example of [
      'dmtp group create',
      'dmtp group search',
      'dmtp send --room',
      'dmtp read --room',
      'dmtp react --room',
    ]) {
      expect(help).toContain(example)
    }
  })
})
