/**
 * The regular-expression engine of record schemas' `pattern` and `patternProperties` (security audit H1).
 * V8's RegExp backtracks: `^(a+)+$` against 34 `a`s and a `!` held the process for 108 s. RE2 (here its
 * pure-JavaScript port, re2js) matches in time linear in the input, whatever the pattern.
 *
 * RE2 has no lookaround and no backreferences. A pattern that needs them (rare in schemas, but the
 * reference's Python engine accepts them) falls back to V8's engine; that validation then runs only
 * inside the schema worker's time limit (workers/schema-validator.ts), like every validation.
 */
import { RE2JS } from 're2js'

interface Tester {
  test(text: string): boolean
}

/** JavaScript escapes RE2 spells otherwise: `\uXXXX` and `\u{…}` become `\x{…}`; the rest is shared syntax. */
export function toRe2Syntax(pattern: string): string {
  let out = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]
    if (c !== '\\' || i + 1 >= pattern.length) {
      out += c
      continue
    }
    const next = pattern[i + 1]
    const braced = next === 'u' ? /^\{([0-9a-fA-F]{1,6})\}/.exec(pattern.slice(i + 2)) : null
    const four = next === 'u' && braced === null ? /^[0-9a-fA-F]{4}/.exec(pattern.slice(i + 2)) : null
    if (braced !== null) {
      out += `\\x{${braced[1]}}`
      i += 1 + braced[0].length
    } else if (four !== null) {
      out += `\\x{${four[0]}}`
      i += 5
    } else {
      out += c + next
      i += 1
    }
  }
  return out
}

/** V8's engine with Unicode semantics where the pattern parses that way (`\-` outside a class does not). */
function backtracking(pattern: string, flags: string): RegExp {
  try {
    return new RegExp(pattern, flags)
  } catch (err) {
    if (!flags.includes('u')) throw err
    return new RegExp(pattern, flags.replace('u', ''))
  }
}

/** ajv's `code.regExp` hook: a linear-time matcher, or V8's for what RE2 cannot express. */
export const linearRegExp = Object.assign(
  (pattern: string, flags: string): Tester => {
    let re2: ReturnType<typeof RE2JS.compile>
    try {
      re2 = RE2JS.compile(toRe2Syntax(pattern))
    } catch {
      return backtracking(pattern, flags)
    }
    return { test: (text: string) => re2.test(text) }
  },
  { code: 'linearRegExp' },
)
