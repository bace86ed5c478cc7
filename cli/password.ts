/**
 * Password rules for `users set-password` (§17.4): 14–128 characters and hard to guess. The reference scores
 * strength with zxcvbn (score ≥ 3); no such estimator is installed here, so this is a deliberately simple
 * stand-in: the user id, common passwords and keyboard or alphabet runs count for almost nothing, and what
 * is left must still be long and varied.
 */

export const MIN_LENGTH = 14
export const MAX_LENGTH = 128
const MIN_SYMBOLS = 10
const MIN_DISTINCT = 6

const COMMON = [
  'password', 'passw0rd', 'qwertyuiop', 'qwerty', 'azerty', 'asdfghjkl', 'asdf', 'zxcvbnm', 'letmein', 'welcome', 'admin',
  'iloveyou', 'monkey', 'dragon', 'football', 'baseball', 'master', 'shadow', 'sunshine', 'princess', 'trustno1',
  'secret', 'awareness', 'changeme', '1234567890', '0987654321',
]

/** Symbols left after runs of three or more (same character, or steps of one code point: "aaa", "abc", "321") collapse to one. */
function symbolCount(text: string): number {
  const cps = Array.from(text, (c) => c.codePointAt(0) ?? 0)
  let symbols = 0
  let i = 0
  while (i < cps.length) {
    let end = i + 1
    if (end < cps.length && Math.abs(cps[end] - cps[i]) <= 1) {
      const step = cps[end] - cps[i]
      while (end < cps.length && cps[end] - cps[end - 1] === step) end++
    }
    symbols++
    i = end - i >= 3 ? end : i + 1
  }
  return symbols
}

/** The problems with a candidate password; empty when it is acceptable. */
export function passwordIssues(password: string, userId: string): string[] {
  const length = Array.from(password).length
  if (length > MAX_LENGTH) return [`Must be ${MAX_LENGTH} characters or fewer.`]
  if (length < MIN_LENGTH) return [`Must be at least ${MIN_LENGTH} characters (got ${length}).`]
  const lowered = password.toLowerCase()
  let core = lowered
  const issues: string[] = []
  if (userId.length >= 3 && lowered.includes(userId.toLowerCase())) {
    issues.push('Do not build it from your user id.')
    core = core.replaceAll(userId.toLowerCase(), '\u0001')
  }
  for (const word of COMMON) core = core.replaceAll(word, '\u0002')
  if (symbolCount(core) < MIN_SYMBOLS || new Set(Array.from(password)).size < MIN_DISTINCT) {
    issues.push('Password is too easily guessed: add more words or characters that follow no pattern.')
  }
  return issues
}
