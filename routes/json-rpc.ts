/**
 * JSON-RPC error bodies for HTTP-level rejections on the MCP path: clients parse them, so every refusal on
 * /mcp (405, 406, 413, 415, 400, 403, 500) has this shape instead of Fastify's own error format.
 */
import type { FastifyReply } from 'fastify'

export function jsonRpcError(reply: FastifyReply, status: number, code: number, message: string): FastifyReply {
  return reply.code(status).type('application/json').send({ jsonrpc: '2.0', error: { code, message }, id: null })
}

/** Fastify's body errors → the status and JSON-RPC body the MCP transport itself would answer. */
export function mapBodyError(code: string | undefined): { status: number; rpc: number; message: string } | undefined {
  switch (code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, rpc: -32000, message: 'Unsupported Media Type: Content-Type must be application/json' }
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, rpc: -32000, message: 'Payload Too Large: the request body exceeds 4 MiB' }
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, rpc: -32700, message: 'Parse error: Invalid JSON' }
    default:
      return undefined
  }
}
