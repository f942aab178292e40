/**
 * Gives the test file a DOM: jsdom's window globals, as vitest's `jsdom` environment sets them.
 * Import it first, before React and Testing Library, which look for `document` when they load.
 *
 * @NOTE vitest's built-in `jsdom` environment imports `jsdom` from vitest's own location (the
 * repository root), where npm did not hoist it: this package's devDependency sits in
 * `packages/react/node_modules`, so the worker fails to start. Test files therefore say
 * `@vitest-environment node` and import this module. Once jsdom is hoisted, both can go and the
 * project's `environment: 'jsdom'` applies.
 */
import { JSDOM } from 'jsdom'
import { populateGlobal } from 'vitest/runtime'

const dom = new JSDOM('<!DOCTYPE html>', { pretendToBeVisual: true, url: 'http://localhost:3000' })
populateGlobal(globalThis, dom.window, { bindFunctions: true })
// A real server pushes updates at any time, outside act(); Testing Library's own act() and
// waitFor() switch this on while they run, so only those stray updates go unwarned.
;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false
