import { defaultServerConditions } from 'vite'
import { defineConfig } from 'vitest/config'

// Workspace packages resolve to their TypeScript sources through the "source" export condition,
// so tests never depend on a stale build.
const conditions = ['source', ...defaultServerConditions]

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    reporters: ['default'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      ...['protocol', 'contracts', 'server', 'sdk', 'cli'].map((name) => ({
        extends: true,
        test: { name, include: [`packages/${name}/{src,test}/**/*.test.ts`] },
      })),
      // React hooks against a real server; each file installs jsdom's globals itself (test/_dom.ts),
      // since jsdom lives in packages/react/node_modules, out of reach of vitest's own environment.
      { extends: true, test: { name: 'react', include: ['packages/react/{src,test}/**/*.test.{ts,tsx}'] } },
      // The web app in Debian's Chromium, driven by playwright-core from Node.
      { extends: true, test: { name: 'web', include: ['packages/web/test/**/*.test.ts'] } },
    ],
    passWithNoTests: true,
  },
})
