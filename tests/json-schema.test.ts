import t from 'tap'
import {
  MAX_LISTED_ERRORS,
  checkSchema,
  normalizeRecordContent,
  splitSchemaKey,
  validateRecord,
} from '../domain/json-schema.js'
import type { RecordValidationError, RecordValidationResult } from '../domain/json-schema.js'

function failures(result: RecordValidationResult): RecordValidationError[] {
  if (result.ok) throw new Error('expected the content to be rejected')
  return result.errors
}

const PERSON = {
  type: 'object',
  properties: { name: { type: 'string' }, age: { type: 'integer' } },
  required: ['name'],
}

t.test('the §4.4.3 example yields a required and a type error, sorted by path', async (t) => {
  const result = validateRecord(PERSON, { age: 'thirty' })
  t.equal(result.ok, false)
  if (result.ok) return
  t.equal(result.total, 2)
  t.equal(result.truncated, false)
  t.same(
    result.errors.map((e) => [e.path, e.validator, e.schema_path]),
    [
      ['$', 'required', '/required'],
      ['$.age', 'type', '/properties/age/type'],
    ],
  )
  t.match(result.errors[0].message, /name/)
  t.match(result.errors[1].message, /integer/)
  t.match(result.errors[1].message, /thirty/)
  t.same(validateRecord(PERSON, { name: 'Ada', age: 36 }), { ok: true })
})

t.test('paths: nested properties, array indexes, keys that are not identifiers', async (t) => {
  const schema = {
    type: 'object',
    properties: {
      address: {
        type: 'object',
        properties: { zip: { type: 'string' } },
        required: ['city'],
      },
      items: { type: 'array', items: { type: 'object', properties: { qty: { type: 'integer', minimum: 1 } } } },
      'key with spaces': { type: 'string' },
      "it's": { type: 'string' },
    },
  }
  const errors = failures(
    validateRecord(schema, {
      address: { zip: 12345 },
      items: [{ qty: 2 }, { qty: 0 }],
      'key with spaces': true,
      "it's": 1,
    }),
  )
  t.same(
    errors.map((e) => [e.path, e.validator, e.schema_path]),
    [
      ['$.address', 'required', '/properties/address/required'],
      ['$.address.zip', 'type', '/properties/address/properties/zip/type'],
      ['$.items[1].qty', 'minimum', '/properties/items/items/properties/qty/minimum'],
      ["$['it\\'s']", 'type', "/properties/it's/type"],
      ["$['key with spaces']", 'type', '/properties/key with spaces/type'],
    ],
  )
})

t.test('a numeric key of an object is a property, not an index', async (t) => {
  const schema = { type: 'object', additionalProperties: { type: 'string' } }
  const errors = failures(validateRecord(schema, { '0': 1 }))
  t.equal(errors[0].path, "$['0']")
  t.equal(errors[0].schema_path, '/additionalProperties/type')
  const arrayErrors = failures(validateRecord({ type: 'array', items: { type: 'string' } }, ['a', 1]))
  t.equal(arrayErrors[0].path, '$[1]')
})

t.test('errors are sorted by path in code-point order, stable within a path', async (t) => {
  // U+FF5E sorts before U+1F600 by code point but after it by UTF-16 code unit.
  const schema = {
    type: 'object',
    properties: { '\u{1F600}': { type: 'string' }, '\uFF5E': { type: 'string' }, b: { type: 'string' }, a: { type: 'string' } },
    required: ['x', 'y'],
  }
  const errors = failures(validateRecord(schema, { '\u{1F600}': 1, '\uFF5E': 1, b: 1, a: 1 }))
  t.same(
    errors.map((e) => e.path),
    ['$', '$', '$.a', '$.b', "$['\uFF5E']", "$['\u{1F600}']"],
  )
  t.match(errors[0].message, /"x"/)
  t.match(errors[1].message, /"y"/)
})

t.test('anyOf and oneOf failures are represented by the single combinator error', async (t) => {
  const schema = {
    type: 'object',
    properties: {
      contact: {
        anyOf: [
          { type: 'string', format: 'email' },
          { $ref: '#/$defs/phone' },
          { type: 'object', required: ['email'], properties: { email: { type: 'string' } } },
        ],
      },
      kind: { oneOf: [{ type: 'integer' }, { type: 'number' }, { type: 'string', minLength: 5 }] },
      tag: { oneOf: [{ type: 'string' }, { type: 'boolean' }] },
    },
    $defs: { phone: { type: 'object', required: ['number'], properties: { number: { type: 'string' } } } },
  }
  const errors = failures(validateRecord(schema, { contact: { number: 5, email: 7 }, kind: 3, tag: 1 }))
  t.same(
    errors.map((e) => [e.path, e.validator, e.schema_path]),
    [
      ['$.contact', 'anyOf', '/properties/contact/anyOf'],
      ['$.kind', 'oneOf', '/properties/kind/oneOf'],
      ['$.tag', 'oneOf', '/properties/tag/oneOf'],
    ],
  )
  t.match(errors[1].message, /more than one/)
  // A passing branch leaves nothing behind.
  t.same(validateRecord(schema, { contact: { number: '555' }, kind: 'abcdef', tag: true }), { ok: true })
})

t.test('keywords next to a combinator still report their own failures', async (t) => {
  const schema = {
    $ref: '#/$defs/base',
    anyOf: [{ required: ['a'] }, { required: ['b'] }],
    $defs: { base: { required: ['id'] } },
  }
  const errors = failures(validateRecord(schema, {}))
  t.same(
    errors.map((e) => [e.validator, e.schema_path]),
    [
      ['required', '/$defs/base/required'],
      ['anyOf', '/anyOf'],
    ],
  )
})

t.test('if/then reports the inner failure; contains is one error', async (t) => {
  const conditional = { if: { type: 'integer' }, then: { minimum: 5 }, else: { type: 'string' } }
  t.same(
    failures(validateRecord(conditional, 3)).map((e) => [e.validator, e.schema_path]),
    [['minimum', '/then/minimum']],
  )
  const contains = { type: 'array', contains: { type: 'string' }, minContains: 2 }
  t.same(
    failures(validateRecord(contains, [1, 'a', 2])).map((e) => [e.path, e.validator, e.schema_path]),
    [['$', 'contains', '/contains']],
  )
})

t.test('additionalProperties: one error at the parent naming every extra property', async (t) => {
  const schema = { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false }
  const errors = failures(validateRecord(schema, { a: 'x', b: 1, c: 2 }))
  t.equal(errors.length, 1)
  t.same(
    { path: errors[0].path, validator: errors[0].validator, schema_path: errors[0].schema_path },
    { path: '$', validator: 'additionalProperties', schema_path: '/additionalProperties' },
  )
  t.match(errors[0].message, /"b"/)
  t.match(errors[0].message, /"c"/)
})

t.test('enum and const', async (t) => {
  const schema = {
    type: 'object',
    properties: { status: { enum: ['draft', 'published'] }, version: { const: 2 } },
  }
  const errors = failures(validateRecord(schema, { status: 'archived', version: 1 }))
  t.same(
    errors.map((e) => [e.path, e.validator, e.schema_path]),
    [
      ['$.status', 'enum', '/properties/status/enum'],
      ['$.version', 'const', '/properties/version/const'],
    ],
  )
  t.match(errors[0].message, /archived/)
  t.match(errors[0].message, /published/)
})

t.test('a $ref failure points at the keyword inside the referenced definition', async (t) => {
  const schema = {
    type: 'object',
    properties: { owner: { $ref: '#/$defs/person' } },
    $defs: {
      person: {
        type: 'object',
        required: ['name'],
        properties: { name: { type: 'string' }, friend: { $ref: '#/$defs/person' } },
      },
    },
  }
  const errors = failures(validateRecord(schema, { owner: { name: 'a', friend: { name: 1 } } }))
  t.same(
    errors.map((e) => [e.path, e.validator, e.schema_path]),
    [['$.owner.friend.name', 'type', '/$defs/person/properties/name/type']],
  )
})

t.test('more than 50 errors: the first 50 are listed, with the total', async (t) => {
  const properties: Record<string, unknown> = {}
  const content: Record<string, unknown> = {}
  for (let i = 0; i < 60; i++) {
    const key = `p${String(i).padStart(2, '0')}`
    properties[key] = { type: 'string' }
    content[key] = i
  }
  const result = validateRecord({ type: 'object', properties }, content)
  t.equal(result.ok, false)
  if (result.ok) return
  t.equal(MAX_LISTED_ERRORS, 50)
  t.equal(result.errors.length, 50)
  t.equal(result.total, 60)
  t.equal(result.truncated, true)
  t.equal(result.errors[0].path, '$.p00')
  t.equal(result.errors[49].path, '$.p49')
})

t.test('format is an annotation, not an assertion', async (t) => {
  const schema = { type: 'object', properties: { email: { type: 'string', format: 'email' }, at: { format: 'date-time' } } }
  t.same(validateRecord(schema, { email: 'not-an-email', at: 'yesterday' }), { ok: true })
  t.same(checkSchema({ type: 'string', format: 'no-such-format' }), { ok: true })
})

t.test('unknown keywords such as x-secret are allowed and ignored', async (t) => {
  const schema = { type: 'object', 'x-secret': { level: 3 }, properties: { a: { type: 'string', 'x-ui': 'textarea' } } }
  t.same(checkSchema(schema), { ok: true })
  t.same(validateRecord(schema, { a: 'x' }), { ok: true })
  t.equal(failures(validateRecord(schema, { a: 1 }))[0].schema_path, '/properties/a/type')
})

t.test('an invalid schema is detected, with a JSON pointer to the problem', async (t) => {
  const typo = checkSchema({ type: 'strng' })
  t.equal(typo.ok, false)
  if (!typo.ok) {
    t.equal(typo.path, '/type')
    t.match(typo.message, /strng/)
  }
  const nested = checkSchema({ type: 'object', properties: { a: { type: 'object', properties: { b: { minimum: 'x' } } } } })
  t.match(nested, { ok: false, path: '/properties/a/properties/b/minimum' })
  t.match(checkSchema({ required: 'name' }), { ok: false, path: '/required' })
  t.match(checkSchema({ properties: { a: 5 } }), { ok: false, path: '/properties/a' })
  t.match(checkSchema({ type: 'string', pattern: '[' }), { ok: false, path: '/pattern' })
  t.match(checkSchema({ items: [{ type: 'string' }] }), { ok: false, path: '/items' })
  t.same(checkSchema(PERSON), { ok: true })
  t.same(checkSchema({}), { ok: true })
  // A property called "pattern" is a subschema name, not the keyword.
  t.same(checkSchema({ properties: { pattern: { type: 'string' } } }), { ok: true })
})

t.test('a schema that is not a JSON object is rejected', async (t) => {
  for (const schema of [true, false, null, [], [{ type: 'string' }], 'string', 42]) {
    const result = checkSchema(schema)
    t.equal(result.ok, false, `${JSON.stringify(schema)} is rejected`)
    if (!result.ok) {
      t.equal(result.path, '')
      t.match(result.message, /object/)
    }
  }
})

t.test('a schema the validator cannot use throws validation_error', async (t) => {
  for (const schema of [
    { $ref: '#/$defs/missing' },
    { $ref: 'https://example.com/remote.json' },
    { properties: { a: { $ref: 'https://json-schema.org/draft/2020-12/schema' } } },
  ]) {
    t.throws(() => validateRecord(schema, { a: 1 }), { code: 'validation_error' }, JSON.stringify(schema))
    // The failure is cached, and stays the same.
    t.throws(() => validateRecord(schema, { a: 1 }), { code: 'validation_error' })
  }
  t.throws(() => validateRecord({ type: 'strng' }, 1), { code: 'validation_error' })
})

t.test('normalizeRecordContent parses JSON object and array strings only (D10)', async (t) => {
  t.same(normalizeRecordContent('{"a":1}'), { a: 1 })
  t.same(normalizeRecordContent('[1]'), [1])
  t.same(normalizeRecordContent(' [1, {"b": null}] '), [1, { b: null }])
  t.equal(normalizeRecordContent('42'), '42')
  t.equal(normalizeRecordContent('true'), 'true')
  t.equal(normalizeRecordContent('null'), 'null')
  t.equal(normalizeRecordContent('"quoted"'), '"quoted"')
  t.equal(normalizeRecordContent('plain'), 'plain')
  t.equal(normalizeRecordContent('{not json'), '{not json')
  t.equal(normalizeRecordContent(''), '')
  t.equal(normalizeRecordContent(42), 42)
  t.equal(normalizeRecordContent(null), null)
  const object = { a: 1 }
  t.equal(normalizeRecordContent(object), object)
})

t.test('splitSchemaKey splits at the last colon', async (t) => {
  t.same(splitSchemaKey('schema:album:1'), { family: 'schema:album', version: '1' })
  t.same(splitSchemaKey('schema:album:1.0.0'), { family: 'schema:album', version: '1.0.0' })
  t.same(splitSchemaKey('a:b'), { family: 'a', version: 'b' })
  t.equal(splitSchemaKey('x:'), null)
  t.equal(splitSchemaKey(':1'), null)
  t.equal(splitSchemaKey('nokey'), null)
  t.equal(splitSchemaKey(''), null)
})

t.test('compiled validators are cached: consistent results, compiled once', async (t) => {
  const schema = {
    type: 'object',
    properties: { title: { type: 'string', minLength: 1 }, tracks: { type: 'array', items: { type: 'string' } } },
    required: ['title'],
  }
  const first = validateRecord(schema, { tracks: [1] })
  // Same schema, different key order and a fresh object: same cache entry, same answer.
  const reordered = { required: ['title'], properties: { tracks: schema.properties.tracks, title: { minLength: 1, type: 'string' } }, type: 'object' }
  t.same(validateRecord(reordered, { tracks: [1] }), first)

  const started = performance.now()
  let failed = 0
  for (let i = 0; i < 1000; i++) {
    const result = validateRecord(schema, i % 2 === 0 ? { title: `t${i}`, tracks: ['a'] } : { tracks: [i] })
    if (!result.ok) failed++
  }
  const elapsed = performance.now() - started
  t.equal(failed, 500)
  // Compiling per call costs ~2 ms each (2 s for 1,000): far below that proves the cache, with room for a busy machine.
  t.ok(elapsed < 1_000, `1,000 validations took ${elapsed.toFixed(1)} ms`)
  t.same(validateRecord(schema, { tracks: [1] }), first)
})

t.test('the cache does not leak one schema into another', async (t) => {
  // Two schemas sharing an $id must not clash, nor resolve each other's definitions.
  const a = { $id: 'https://example.com/album', type: 'object', required: ['a'] }
  const b = { $id: 'https://example.com/album', type: 'object', required: ['b'] }
  t.match(failures(validateRecord(a, {}))[0].message, /"a"/)
  t.match(failures(validateRecord(b, {}))[0].message, /"b"/)
  const c = { $id: 'https://example.com/other', $ref: 'https://example.com/album' }
  t.throws(() => validateRecord(c, {}), { code: 'validation_error' })
})

t.test('propertyNames failures name the property, at the object', async (t) => {
  const schema = { type: 'object', propertyNames: { pattern: '^[a-z]+$' } }
  const errors = failures(validateRecord(schema, { ok: 1, 'Not OK': 2 }))
  t.same(
    errors.map((e) => [e.path, e.validator, e.schema_path]),
    [['$', 'pattern', '/propertyNames/pattern']],
  )
  t.match(errors[0].message, /"Not OK"/)
})
