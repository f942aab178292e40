/** @dmtp/cli: the `dmtp` command line. The program is exported for tests and for embedding. */
export { createProgram } from './program.js'
