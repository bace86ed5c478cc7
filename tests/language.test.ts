import t from 'tap'
import {
  ISO_TO_REGCONFIG,
  RegconfigCache,
  detectLanguageIso,
  detectionText,
  isoToRegconfig,
  parseLanguageFilter,
  pickConfidentLanguage,
  resolveLanguage,
  unsupportedLanguageAlert,
  warmLanguageDetector,
} from '../domain/language.js'
import type { Log } from '../core/ports.js'
import { validRegconfig } from '../mcp/tools/write-language.js'
import { backends, call, clientV1, clientV2, sharedStore, startServer, uniqueOwner, servicesFor } from './helpers.js'

const PAIRS: Array<[string, string]> = [
  ['ar', 'arabic'], ['hy', 'armenian'], ['eu', 'basque'], ['ca', 'catalan'],
  ['da', 'danish'], ['nl', 'dutch'], ['en', 'english'], ['fi', 'finnish'],
  ['fr', 'french'], ['de', 'german'], ['el', 'greek'], ['hi', 'hindi'],
  ['hu', 'hungarian'], ['id', 'indonesian'], ['ga', 'irish'], ['it', 'italian'],
  ['lt', 'lithuanian'], ['ne', 'nepali'], ['no', 'norwegian'], ['pt', 'portuguese'],
  ['ro', 'romanian'], ['ru', 'russian'], ['sr', 'serbian'], ['es', 'spanish'],
  ['sv', 'swedish'], ['ta', 'tamil'], ['tr', 'turkish'], ['yi', 'yiddish'],
]

// Long, unambiguous sentences (each written for these tests).
const ENGLISH = 'The deployment pipeline failed again because the database migration ran before the cache was warmed up.'
const FRENCH = 'Le serveur de production redémarre chaque nuit parce que la mémoire se remplit trop rapidement.'
const SPANISH = 'El servidor de producción se reinicia cada noche porque la memoria se llena demasiado rápido.'
const GERMAN = 'Wir müssen das Zertifikat für die Domain unbedingt vor dem Ende des nächsten Monats erneuern.'
const JAPANESE = '本番サーバーはメモリがすぐにいっぱいになるので、毎晩再起動されます。'

t.test('ISO ↔ regconfig map', async (t) => {
  t.test('holds exactly the 28 pairs', async (t) => {
    t.same(Object.entries(ISO_TO_REGCONFIG).sort(), [...PAIRS].sort())
    t.equal(Object.keys(ISO_TO_REGCONFIG).length, 28)
    t.ok(Object.isFrozen(ISO_TO_REGCONFIG), 'frozen')
  })

  t.test('every pair maps', async (t) => {
    for (const [iso, cfg] of PAIRS) t.equal(isoToRegconfig(iso), cfg, `${iso} → ${cfg}`)
  })

  t.test('codes are trimmed and case-insensitive', async (t) => {
    t.equal(isoToRegconfig(' En '), 'english')
    t.equal(isoToRegconfig('FR'), 'french')
    t.equal(isoToRegconfig('\tdE\n'), 'german')
  })

  t.test('absent, empty and odd codes give simple', async (t) => {
    for (const code of ['ja', 'zh', 'ko', 'he', 'et', 'xx', 'english', 'simple', '', '   ', 'constructor', '__proto__']) {
      t.equal(isoToRegconfig(code), 'simple', JSON.stringify(code))
    }
    t.equal(isoToRegconfig(null), 'simple')
    t.equal(isoToRegconfig(undefined), 'simple')
  })

})

t.test('parseLanguageFilter', async (t) => {
  t.equal(parseLanguageFilter('simple'), 'simple')
  t.equal(parseLanguageFilter(' SIMPLE '), 'simple')
  t.equal(parseLanguageFilter('FR '), 'french')
  t.equal(parseLanguageFilter('yi'), 'yiddish')
  t.equal(parseLanguageFilter('xx'), null)
  t.equal(parseLanguageFilter('ja'), null)
  t.equal(parseLanguageFilter('english'), null, 'configuration names are not accepted')
  t.equal(parseLanguageFilter(''), null)
})

t.test('pickConfidentLanguage (the confidence rule)', async (t) => {
  t.equal(pickConfidentLanguage([]), null, 'no candidates')
  t.equal(pickConfidentLanguage([{ lang: 'en', accuracy: 1 }]), 'en', 'single certain candidate')
  t.equal(pickConfidentLanguage([{ lang: 'en', accuracy: 0.469 }, { lang: 'da', accuracy: 0.018 }]), 'en', 'mixed but clear')
  t.equal(pickConfidentLanguage([{ lang: 'fi', accuracy: 0.507 }, { lang: 'et', accuracy: 0.493 }]), null, 'split verdict')
  t.equal(pickConfidentLanguage([{ lang: 'es', accuracy: 0.126 }, { lang: 'pt', accuracy: 0.083 }]), null, 'word-vote path')
  t.equal(pickConfidentLanguage([{ lang: 'tlh', accuracy: 1 }]), null, 'not an ISO 639-1 code')
  t.equal(pickConfidentLanguage([{ lang: 'JA', accuracy: 1 }]), 'ja', 'lower-cased')
  t.equal(pickConfidentLanguage([{ lang: 'en', accuracy: Number.NaN }]), null, 'NaN accuracy')
})

t.test('detectLanguageIso', async (t) => {
  t.ok(warmLanguageDetector(), 'tinyld is installed and loads')

  t.test('long unambiguous sentences', async (t) => {
    t.equal(detectLanguageIso(ENGLISH), 'en')
    t.equal(detectLanguageIso(FRENCH), 'fr')
    t.equal(detectLanguageIso(SPANISH), 'es')
    t.equal(detectLanguageIso(GERMAN), 'de')
  })

  t.test('unsupported languages come back as their raw code', async (t) => {
    t.equal(detectLanguageIso(JAPANESE), 'ja')
  })

  t.test('short or missing text is never detected', async (t) => {
    t.equal(detectLanguageIso('Bonjour à tous !'), null)
    t.equal(detectLanguageIso('The cat sat on mats'), null, '19 characters')
    t.equal(detectLanguageIso(`    ${'The cat sat on mats'}\n\n\t   `), null, 'whitespace does not count')
    t.equal(detectLanguageIso('😀'.repeat(19)), null, '19 code points in 38 UTF-16 units')
    t.equal(detectLanguageIso('これは日本語です'), null, 'short Japanese')
    t.equal(detectLanguageIso(''), null)
    t.equal(detectLanguageIso(null), null)
    t.equal(detectLanguageIso(undefined), null)
  })

  t.test('odd and huge input neither throws nor stalls', async (t) => {
    for (const text of ['\u0000\ud800'.repeat(20), '!?.,;:'.repeat(10), '1234567890 '.repeat(10), '{"a":[1,2,{"b":null}]}'.repeat(5)]) {
      const got = detectLanguageIso(text)
      t.ok(got === null || /^[a-z]{2}$/.test(got), JSON.stringify(text.slice(0, 12)))
    }
    const huge = `${ENGLISH} `.repeat(10_000)
    const started = performance.now()
    t.equal(detectLanguageIso(huge), 'en')
    t.ok(performance.now() - started < 2_000, 'only a bounded prefix is examined (the whole text takes seconds)')
  })
})

t.test('detectionText', async (t) => {
  t.equal(detectionText('pattern', { description: ' When X ', effect: 'Y happens ' }), 'When X  Y happens')
  t.equal(detectionText('note', { description: 'Desc', content: 'body text' }), 'Desc body text')
  t.equal(detectionText('note', { description: 'Desc', content: { k: 'v', n: [1, 2] } }), 'Desc {"k":"v","n":[1,2]}')
  t.equal(detectionText('note', { description: 'Desc', content: ['a', 'b'] }), 'Desc ["a","b"]')
  t.equal(detectionText('note', { description: 'Desc' }), 'Desc', 'no content')
  t.equal(detectionText('note', { description: 'Desc', content: null }), 'Desc', 'null content')
  t.equal(detectionText('intention', { goal: 'Book flights', description: 'Travel' }), 'Book flights')
  t.equal(detectionText('intention', { goal: '  ', description: ' Travel ' }), 'Travel', 'empty goal')
  t.equal(detectionText('intention', { description: 'Travel' }), 'Travel', 'missing goal')
  for (const type of ['context', 'schema', 'record', 'status', 'preference']) {
    t.equal(detectionText(type, { description: ' Only this ', effect: 'no', content: 'no', goal: 'no' }), 'Only this', type)
  }
  t.equal(detectionText('context', {}), '', 'no description')
  const circular: Record<string, unknown> = {}
  circular.self = circular
  t.equal(detectionText('note', { description: 'Desc', content: circular }), 'Desc', 'unserialisable content')
})

t.test('resolveLanguage', async (t) => {
  t.test('explicit supported code beats preference and detection', async (t) => {
    t.same(resolveLanguage({ explicit: 'de', preference: 'es', text: ENGLISH }), { regconfig: 'german', unsupportedIso: null })
    t.same(resolveLanguage({ explicit: ' FR ', text: JAPANESE }), { regconfig: 'french', unsupportedIso: null }, 'no alert')
  })

  t.test('unknown explicit code falls through', async (t) => {
    t.same(resolveLanguage({ explicit: 'xx', text: ENGLISH }), { regconfig: 'english', unsupportedIso: null })
    t.same(resolveLanguage({ explicit: 'simple', text: SPANISH }), { regconfig: 'spanish', unsupportedIso: null })
    t.same(resolveLanguage({ explicit: 'ja', text: JAPANESE }), { regconfig: 'simple', unsupportedIso: 'ja' },
      'the unsupported check still runs')
  })

  t.test('preference level', async (t) => {
    t.same(resolveLanguage({ preference: 'es' }), { regconfig: 'spanish', unsupportedIso: null })
    t.same(resolveLanguage({ preference: 'DE', text: ENGLISH }), { regconfig: 'german', unsupportedIso: null }, 'beats detection')
    t.same(resolveLanguage({ preference: 'pt', text: JAPANESE }), { regconfig: 'portuguese', unsupportedIso: null }, 'no alert')
    t.same(resolveLanguage({ explicit: null, preference: 'zz', text: FRENCH }), { regconfig: 'french', unsupportedIso: null },
      'unknown preference falls through')
  })

  t.test('detection and the simple fallback', async (t) => {
    t.same(resolveLanguage({ text: GERMAN }), { regconfig: 'german', unsupportedIso: null })
    t.same(resolveLanguage({ text: JAPANESE }), { regconfig: 'simple', unsupportedIso: 'ja' })
    t.same(resolveLanguage({ text: 'too short' }), { regconfig: 'simple', unsupportedIso: null })
    t.same(resolveLanguage({}), { regconfig: 'simple', unsupportedIso: null })
  })
})

t.test('unsupportedLanguageAlert', async (t) => {
  const alert = unsupportedLanguageAlert('ja')
  t.equal(alert.source, 'mcp-awareness')
  t.same(alert.tags, ['language', 'unsupported'])
  t.equal(alert.alertId, 'unsupported-language-ja')
  t.match(alert.data, {
    alert_id: 'unsupported-language-ja',
    level: 'info',
    alert_type: 'structural',
    resolved: false,
    detected_iso: 'ja',
  })
  t.same(Object.keys(alert.data).sort(), ['alert_id', 'alert_type', 'detected_iso', 'level', 'message', 'resolved'])
  t.match(alert.data.message, /Japanese/)
  t.match(alert.data.message, /simple/)
  t.match(unsupportedLanguageAlert('qq').data.message, /'qq'/, 'unknown code still named')
})

interface Harness {
  cache: RegconfigCache
  calls: () => number
  warnings: string[]
  clock: { t: number }
}

function harness(results: Array<string[] | Error>, minReloadIntervalMs?: number): Harness {
  let n = 0
  const warnings: string[] = []
  const clock = { t: 0 }
  const load = async (): Promise<string[]> => {
    const r = results[Math.min(n, results.length - 1)]
    n++
    if (r instanceof Error) throw r
    return r
  }
  const cache = new RegconfigCache(load, { minReloadIntervalMs, now: () => clock.t, warn: (m) => warnings.push(m) })
  return { cache, calls: () => n, warnings, clock }
}

t.test('RegconfigCache', async (t) => {
  t.test('init loads the catalog', async (t) => {
    const h = harness([['simple', 'english', 'french']])
    await h.cache.init()
    t.ok(h.cache.has('english'))
    t.equal(await h.cache.validate('french'), 'french')
    t.equal(h.calls(), 1, 'a hit costs no query')
    t.same(h.warnings, [])
  })

  t.test('load failure leaves only simple', async (t) => {
    const h = harness([new Error('connection refused')])
    await h.cache.init()
    t.ok(h.cache.has('simple'))
    t.notOk(h.cache.has('english'))
    t.equal(h.warnings.length, 1)
    t.match(h.warnings[0], /connection refused/)
    t.equal(await h.cache.validate('simple'), 'simple')
    t.equal(h.calls(), 1, 'simple never reloads')
  })

  t.test('a miss reloads once, then rechecks', async (t) => {
    const h = harness([['simple', 'english'], ['simple', 'english', 'estonian']])
    await h.cache.init()
    h.clock.t = 60_000
    t.equal(await h.cache.validate('estonian'), 'estonian', 'found after the reload')
    t.equal(h.calls(), 2)
    t.same(h.warnings, [])
    h.clock.t = 120_000
    t.equal(await h.cache.validate('klingon'), 'simple', 'still missing')
    t.equal(h.calls(), 3, 'exactly one reload for that miss')
    t.equal(h.warnings.length, 1)
    t.match(h.warnings[0], /klingon/)
  })

  t.test('reloads are rate-limited', async (t) => {
    const h = harness([['simple'], ['simple', 'english']], 60_000)
    await h.cache.init()
    h.clock.t = 59_999
    t.equal(await h.cache.validate('english'), 'simple', 'too soon: no reload')
    t.equal(h.calls(), 1)
    h.clock.t = 60_000
    t.equal(await h.cache.validate('english'), 'english', 'interval elapsed: reloaded')
    t.equal(h.calls(), 2)
    h.clock.t = 60_001
    t.equal(await h.cache.validate('german'), 'simple')
    t.equal(await h.cache.validate('german'), 'simple')
    t.equal(h.calls(), 2, 'misses inside the interval cost nothing')
  })

  t.test('custom interval', async (t) => {
    const h = harness([['simple']], 10)
    await h.cache.init()
    h.clock.t = 10
    await h.cache.validate('english')
    t.equal(h.calls(), 2)
  })

  t.test('concurrent misses share one reload', async (t) => {
    const h = harness([['simple'], ['simple', 'english', 'german']])
    await h.cache.init()
    h.clock.t = 60_000
    const got = await Promise.all([h.cache.validate('english'), h.cache.validate('german'), h.cache.validate('nope')])
    t.same(got, ['english', 'german', 'simple'])
    t.equal(h.calls(), 2)
  })

  t.test('a failed reload keeps the previous set', async (t) => {
    const h = harness([['simple', 'english'], new Error('timeout')])
    await h.cache.init()
    h.clock.t = 60_000
    t.equal(await h.cache.validate('german'), 'simple')
    t.ok(h.cache.has('english'))
    t.equal(h.warnings.length, 2, 'one for the failed load, one for the miss')
  })

  t.test('a miss before init loads immediately', async (t) => {
    const h = harness([['simple', 'english']])
    t.equal(await h.cache.validate('english'), 'english')
    t.equal(h.calls(), 1)
  })

  t.test('a loader that throws synchronously is handled', async (t) => {
    const warnings: string[] = []
    let clock = 0
    const cache = new RegconfigCache(() => { throw new Error('boom') }, { now: () => clock, warn: (m) => warnings.push(m) })
    await cache.init()
    t.ok(cache.has('simple'))
    clock = 60_000
    t.equal(await cache.validate('english'), 'simple')
    t.equal(warnings.length, 3, 'init failure, reload failure, miss')
  })
})

// ---------------------------------------------------------------------------------------------
// Through the store and the write tools, on every backend

const SHORT_FRENCH_OR_ANY = 'notes du jour' // under 20 characters: never detected

for (const backend of backends()) {
  t.test(`write-time language on ${backend}`, async (t) => {
    t.test('explicit code beats the user preference, which beats detection; unknown codes fall through', async (t) => {
      const srv = await startServer(t, { backend })
      await srv.store.system((tx) => tx`INSERT INTO users (id, preferences) VALUES (${srv.owner}, ${tx.json({ language: 'fr' })})`)
      const c = await clientV1(t, srv.url)
      const language = async (args: Record<string, unknown>) => {
        const { body } = await call(c, 'remember', { source: 's', tags: [], ...args })
        const [row] = await srv.store.withOwner(srv.owner, (tx) => tx`SELECT language::text AS l FROM entries WHERE id = ${body.id}`)
        return row.l as string
      }
      t.equal(await language({ description: SHORT_FRENCH_OR_ANY }), 'french', 'the preference decides when nothing else does')
      t.equal(await language({ description: SHORT_FRENCH_OR_ANY, language: 'de' }), 'german', 'explicit wins')
      t.equal(await language({ description: ENGLISH, language: 'xx' }), 'french', 'an unknown explicit code falls through to the preference')
      await srv.store.system((tx) => tx`UPDATE users SET preferences = ${tx.json({ language: 'zz' })} WHERE id = ${srv.owner}`)
      t.equal(await language({ description: ENGLISH }), 'english', 'an unknown preference falls through to detection')
      t.equal(await language({ description: SHORT_FRENCH_OR_ANY }), 'simple')
      await srv.store.system((tx) => tx`DELETE FROM users WHERE id = ${srv.owner}`)
      t.equal(await language({ description: GERMAN }), 'german', 'no users row: detection')
    })

    t.test('Japanese text is stored as simple and raises one unsupported-language alert per owner', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      await call(c, 'remember', { source: 's', tags: [], description: JAPANESE })
      await call(c, 'learn_pattern', { source: 's', tags: [], description: JAPANESE, effect: '再起動' })
      const rows = await srv.store.withOwner(srv.owner, (tx) => tx`SELECT type, language::text AS l, data FROM entries WHERE owner_id = ${srv.owner} ORDER BY created`)
      t.same(rows.filter((r) => r.type !== 'alert').map((r) => r.l), ['simple', 'simple'])
      const alerts = rows.filter((r) => r.type === 'alert')
      t.equal(alerts.length, 1, 'one alert, bumped by the second write')
      t.match(alerts[0].data, { alert_id: 'unsupported-language-ja', level: 'info', resolved: false, detected_iso: 'ja' })
    })

    t.test('the regconfig cache is validated against this database\'s catalog', async (t) => {
      const store = await sharedStore(backend)
      const warnings: string[] = []
      const log = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (m: unknown) => void warnings.push(String(m)) } as unknown as Log
      const { languages } = servicesFor(store)
      const check = (name: string) => store.withOwner(uniqueOwner(), (tx) => validRegconfig({ languages, log }, tx, name))
      t.equal(await check('english'), 'english')
      t.equal(await check('simple'), 'simple')
      t.equal(await check('klingon'), 'simple', 'an unknown configuration never reaches the tsv column')
      t.equal(await check('estonian'), backend === 'pglite' ? 'estonian' : 'simple', 'PGlite ships estonian, PostgreSQL 15 does not')
      const [{ n }] = await store.system((tx) => tx`SELECT count(*)::int AS n FROM pg_ts_config`)
      t.ok(n >= 29, `the catalog has ${n} configurations`)
      t.ok(warnings.some((w) => /klingon/.test(w)), 'a miss is logged')
    })
  })
}
