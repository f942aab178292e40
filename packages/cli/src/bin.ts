/**
 * The `dmtp` executable (`bin/dmtp.js` imports this): runs the program, renders any error, and
 * exits with 0 on success, 2 on a usage error and 1 on any other error.
 */
import { CommanderError } from 'commander'
import { renderError } from './output.js'
import { createProgram } from './program.js'

/** Commander's ways of saying it printed help or the version: not errors. */
const HELP_CODES = new Set(['commander.help', 'commander.helpDisplayed', 'commander.version'])

// `dmtp read | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error
  process.exit(0)
})

const program = createProgram()

/** `--json`, also when parsing failed before commander reached it (`dmtp --server bad whois … --json`). */
const wantsJson = () => {
  const args = process.argv.slice(2)
  const end = args.indexOf('--')
  return program.opts().json === true || (end === -1 ? args : args.slice(0, end)).includes('--json')
}

let exitCode = 0
try {
  await program.parseAsync(process.argv)
} catch (error) {
  // `dmtp` alone prints help as an error (commander's exit 1): a usage error.
  if (error instanceof CommanderError && HELP_CODES.has(error.code)) exitCode = error.exitCode === 0 ? 0 : 2
  else exitCode = renderError(error, { json: wantsJson(), debug: process.env.DMTP_DEBUG === '1' })
}
// Exit explicitly, once the output is written: a stream's reconnect timer must not keep the process alive.
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write('', resolve))))
// Commands that ran but found a problem (verify) set process.exitCode.
process.exit(exitCode || Number(process.exitCode ?? 0))
