/**
 * Positions (room `seq`, stream cursors, log indexes) are 32-bit on every database; a larger one
 * is a client error.
 */
export const MAX_CURSOR_VALUE = 2_147_483_647
