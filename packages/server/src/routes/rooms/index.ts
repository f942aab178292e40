/** Rooms: open and create, find and list, the membership log and its events, members, history, read markers. */
import {
  logQuerySchema,
  logResponseSchema,
  markReadRequestSchema,
  markReadResponseSchema,
  membersQuerySchema,
  membersResponseSchema,
  messagesQuerySchema,
  messagesResponseSchema,
  openRoomRequestSchema,
  postRoomEventRequestSchema,
  postRoomEventResponseSchema,
  roomParamsSchema,
  roomResponseSchema,
  roomSearchQuerySchema,
  roomSearchResponseSchema,
  roomsResponseSchema,
} from '@dmtp/protocol'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { AppContext } from '../../context.js'
import { sessionAddress } from '../../plugins.js'

export const roomRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.post(
    '/v1/rooms',
    {
      config: { auth: true },
      schema: {
        tags: ['rooms'],
        summary: 'The 1:1 room with a peer (created on first contact, random id), or a new group from its signed create event',
        body: openRoomRequestSchema,
        response: { 200: roomResponseSchema },
      },
    },
    async (request) => {
      const address = sessionAddress(request)
      const { body } = request
      return 'peer' in body ? ctx.rooms.openDirect(address, body.peer) : ctx.rooms.create(address, body.event)
    },
  )

  app.get(
    '/v1/rooms',
    {
      config: { auth: true },
      schema: {
        tags: ['rooms'],
        summary: "The signed-in wallet's rooms (and invitations), with unread counts, most recent first",
        response: { 200: roomsResponseSchema },
      },
    },
    async (request) => ({ rooms: await ctx.rooms.list(sessionAddress(request)) }),
  )

  app.get(
    '/v1/rooms/search',
    {
      config: { auth: true },
      schema: {
        tags: ['rooms'],
        summary: 'Public rooms by name and description, largest first',
        querystring: roomSearchQuerySchema,
        response: { 200: roomSearchResponseSchema },
      },
    },
    async (request) => ctx.rooms.search(request.query),
  )

  app.get(
    '/v1/rooms/:room',
    {
      config: { auth: true },
      schema: {
        tags: ['rooms'],
        summary: "A room and the signed-in wallet's standing in it",
        params: roomParamsSchema,
        response: { 200: roomResponseSchema },
      },
    },
    async (request) => ctx.rooms.get(sessionAddress(request), request.params.room),
  )

  app.post(
    '/v1/rooms/:room/events',
    {
      config: { auth: true },
      schema: {
        tags: ['rooms'],
        summary: 'Append a signed event to the membership log: join, leave, invite, moderation, roles, settings',
        params: roomParamsSchema,
        body: postRoomEventRequestSchema,
        response: { 200: postRoomEventResponseSchema },
      },
    },
    async (request) => ctx.rooms.postEvent(sessionAddress(request), request.params.room, request.body.event),
  )

  app.get(
    '/v1/rooms/:room/log',
    {
      config: { auth: true },
      schema: {
        tags: ['rooms'],
        summary: 'The membership log, after a room position',
        params: roomParamsSchema,
        querystring: logQuerySchema,
        response: { 200: logResponseSchema },
      },
    },
    async (request) => ctx.rooms.log(sessionAddress(request), request.params.room, request.query),
  )

  app.get(
    '/v1/rooms/:room/members',
    {
      config: { auth: true },
      schema: {
        tags: ['rooms'],
        summary: 'Members by seniority (or invitations, requests, bans), paged',
        params: roomParamsSchema,
        querystring: membersQuerySchema,
        response: { 200: membersResponseSchema },
      },
    },
    async (request) => ctx.rooms.members(sessionAddress(request), request.params.room, request.query),
  )

  app.get(
    '/v1/rooms/:room/messages',
    {
      config: { auth: true },
      schema: {
        tags: ['rooms'],
        summary: 'Room history (messages and log entries) by cursor (the seq to continue after)',
        params: roomParamsSchema,
        querystring: messagesQuerySchema,
        response: { 200: messagesResponseSchema },
      },
    },
    async (request) => ctx.messages.history(sessionAddress(request), request.params.room, request.query),
  )

  app.post(
    '/v1/rooms/:room/read',
    {
      config: { auth: true },
      schema: {
        tags: ['rooms'],
        summary: 'Mark the room read up to a seq (for unread counts)',
        params: roomParamsSchema,
        body: markReadRequestSchema,
        response: { 200: markReadResponseSchema },
      },
    },
    async (request) => ctx.rooms.markRead(sessionAddress(request), request.params.room, request.body.seq),
  )
}
