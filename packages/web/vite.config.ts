/**
 * Vite builds the app into dist/, which `dmtp serve` serves at /. Workspace packages are bundled
 * from their TypeScript sources (the "source" export condition), like the tests read them.
 */
import { defaultClientConditions, defineConfig } from 'vite'

export default defineConfig({
  resolve: { conditions: ['source', ...defaultClientConditions] },
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1024,
    rolldownOptions: {
      // apg-js (under the SIWE parser) starts its files with 'use strict;' (sic): harmless noise.
      onLog(level, log, handler) {
        if (log.code !== 'MODULE_LEVEL_DIRECTIVE') handler(level, log)
      },
    },
  },
  server: { proxy: { '/v1': { target: 'http://localhost:8787', ws: true }, '/ipfs': 'http://localhost:8787' } },
})
