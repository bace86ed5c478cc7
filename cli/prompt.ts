/**
 * Reads passwords without echo. On a terminal, raw mode and our own line editing (Backspace, Ctrl-C,
 * Ctrl-D); from a pipe (scripts, tests), one line per answer.
 */
import { createInterface } from 'node:readline'

export interface SecretReader {
  /** The answer, or undefined when the input ended. */
  read(prompt: string): Promise<string | undefined>
  close(): void
}

export function secretReader(input: NodeJS.ReadStream, output: NodeJS.WritableStream | { write(text: string): unknown }): SecretReader {
  if (input.isTTY === true && typeof input.setRawMode === 'function') return terminalReader(input, output)
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY, terminal: false })[Symbol.asyncIterator]()
  return {
    async read(prompt) {
      output.write(prompt)
      const next = await lines.next()
      return next.done === true ? undefined : next.value
    },
    close: () => void lines.return?.(),
  }
}

function terminalReader(input: NodeJS.ReadStream, output: { write(text: string): unknown }): SecretReader {
  return {
    read(prompt) {
      output.write(prompt)
      input.setRawMode(true)
      input.resume()
      return new Promise((resolve) => {
        let answer: string[] = []
        const finish = (value: string | undefined) => {
          input.off('data', onData)
          input.setRawMode(false)
          input.pause()
          output.write('\n')
          resolve(value)
        }
        const onData = (chunk: Buffer) => {
          for (const ch of chunk.toString('utf8')) {
            if (ch === '\r' || ch === '\n') return finish(answer.join(''))
            if (ch === '\u0004') return finish(answer.length === 0 ? undefined : answer.join(''))
            if (ch === '\u0003') {
              finish(undefined)
              process.exit(130) // Ctrl-C: the shell's convention for SIGINT
            }
            if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1)
            else if (ch >= ' ') answer.push(ch)
          }
        }
        input.on('data', onData)
      })
    },
    close: () => undefined,
  }
}
