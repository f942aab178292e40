/**
 * `node packages/bench/dist/private-room.js [members]`: the private room through the real server
 * alone (`scenarios/private-room.ts`), 10,000 members unless told. Prints one line of JSON.
 */
import { privateRoomScale } from './scenarios/private-room.js'

const members = Number(process.argv[2] ?? 10_000)
const result = await privateRoomScale({ members })
process.stdout.write(`${JSON.stringify(result)}\n`)
