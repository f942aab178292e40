/** @dmtp/server: build, start and stop a DMTP server. */
export { type ApiKeyAdmin, openApiKeyAdmin } from './api-key-admin.js'
export { type DatabaseConfig, DEFAULT_PORT, envToConfig, type ServerConfig } from './config/config.js'
export { ConfigError, readEnv, type ServerEnv } from './config/env.js'
export { envToSecrets, type ServerSecrets } from './config/secrets.js'
export { AppContext, type AppContextOverrides } from './context.js'
export { type CrashPoint, crashAt } from './faults.js'
export { type Clock, systemClock } from './identity.js'
export { Server } from './server.js'
