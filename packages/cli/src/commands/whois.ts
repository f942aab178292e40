/**
 * `dmtp whois`: looks up a wallet's current key bundle and verifies it on this machine (the
 * wallet's signature over the keys, the CID, the keys themselves): the server is not trusted.
 * Needs no wallet of its own.
 */
import { Command } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine, terminalSafe } from '../output.js'
import { parseAddress } from '../parsers.js'

const ANCHOR_TEXT = {
  anchored: 'yes: this is the key bundle anchored in the registry',
  pending: 'not yet: the server has not anchored this bundle yet',
  unchecked: 'not checked: this server does not anchor, or the chain is out of reach',
} as const

const NOT_REGISTERED = 'not registered: this wallet has no DMTP keys on this server'

/**
 * @example
 * import { whoisCommand } from './commands/whois.js'
 * program.addCommand(whoisCommand())
 */
export function whoisCommand(): Command {
  return new Command('whois')
    .description('Show whether a wallet has DMTP keys, and verify its key bundle')
    .argument('<address>', 'the wallet to look up', parseAddress)
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp whois 0xB0b…                             registered, verified, bundle CID and key fingerprint
  $ dmtp whois 0xB0b… --json                      {"address","registered","verified","bundleCid","anchored"}

Compare the fingerprint with the person out of band (in person, on a call) to rule out a server
that hands out keys of its own.`,
    )
    .action(async (address: string, _options: unknown, command: Command) => {
      const globals = globalOptions(command)
      const result = await connect(globals).whois(address)
      if (globals.json) {
        const problem = !result.registered ? NOT_REGISTERED : result.verified ? undefined : result.problem
        printJson({
          address: result.address,
          registered: result.registered,
          verified: result.registered && result.verified,
          bundleCid: result.registered ? result.cid : null,
          anchored: result.registered && result.verified ? result.anchor : null,
          ...(problem === undefined ? {} : { problem }),
        })
      } else if (!result.registered) {
        printLine(`${result.address} is not registered: it has no DMTP keys on this server.`)
      } else if (!result.verified) {
        printLine(`${result.address} is registered, but its key bundle FAILED verification: ${terminalSafe(result.problem)}`)
        printLine(`  bundle       ${result.cid}`)
        printLine('  Do not send to it: the server may be faulty or malicious.')
      } else {
        printLine(`${result.address} is registered; its key bundle is verified.`)
        printLine(`  bundle       ${result.cid}`)
        printLine(`  fingerprint  ${result.fingerprint}`)
        printLine(`  on chain     ${ANCHOR_TEXT[result.anchor]}`)
      }
    })
}
