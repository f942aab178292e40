import { defaultServerConditions } from 'vite'
import { defineConfig } from 'vitest/config'

// Workspace packages resolve to their TypeScript sources through the "source" export condition,
// so tests never depend on a stale build.
const conditions = ['source', ...defaultServerConditions]

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    // The second prints hostile_caught_ratio (packages/sdk/test/hostile/attack.ts).
    reporters: ['default', './packages/sdk/test/hostile/reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Most suites wait on child processes (the CLI, anvil, Chromium) and sockets rather than the
    // CPU, so three files at a time fit this 2-core machine (vitest's default would be one).
    maxWorkers: 3,
    projects: [
      ...['protocol', 'contracts', 'server', 'sdk'].map((name) => ({
        extends: true,
        test: { name, include: [`packages/${name}/{src,test}/**/*.test.ts`] },
      })),
      // Each CLI test runs the built `dmtp` several times, a process start (~1 s) each.
      { extends: true, test: { name: 'cli', include: ['packages/cli/{src,test}/**/*.test.ts'], testTimeout: 90_000 } },
      // React hooks against a real server; each file installs jsdom's globals itself (test/_dom.ts),
      // since jsdom lives in packages/react/node_modules, out of reach of vitest's own environment.
      { extends: true, test: { name: 'react', include: ['packages/react/{src,test}/**/*.test.{ts,tsx}'] } },
      // The web app in Debian's Chromium, driven by playwright-core from Node.
      { extends: true, test: { name: 'web', include: ['packages/web/test/**/*.test.ts'], testTimeout: 90_000 } },
    ],
    passWithNoTests: true,
  },
})
