import { Ajv2020 } from 'ajv/dist/2020.js'
import { validateRecord } from './server/json-schema.js'
let seed = Number(process.argv[2] ?? 12345)
const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff }
const pick = <T,>(a: T[]): T => a[Math.floor(rnd() * a.length)]
function genSchema(d: number): any {
  const leaf = () => pick<any>([{type:'string'},{type:'integer'},{minimum:3},{enum:[1,'a',null]},{type:'object',required:['a']},{type:'array',minItems:2},{maxLength:1},true,false,{}, {const: 2}, {not:{type:'integer'}}])
  if (d <= 0) return leaf()
  const kind = pick(['anyOf','oneOf','contains','props','items','if','allOf','leaf','pn'])
  const n = 1 + Math.floor(rnd()*3)
  switch (kind) {
    case 'anyOf': case 'oneOf': case 'allOf': return {[kind]: Array.from({length:n}, () => genSchema(d-1))}
    case 'contains': { const s: any = {contains: genSchema(d-1)}; if (rnd()<0.5) s.minContains = Math.floor(rnd()*3); if (rnd()<0.4) s.maxContains = Math.floor(rnd()*3); return s }
    case 'props': return {properties: {a: genSchema(d-1), b: genSchema(d-1)}, ...(rnd()<0.5 ? {anyOf:[genSchema(d-1), genSchema(d-1)]} : {})}
    case 'items': return {items: genSchema(d-1)}
    case 'if': return {if: genSchema(d-1), then: genSchema(d-1), else: genSchema(d-1)}
    case 'pn': return {propertyNames: genSchema(d-1)}
    default: return leaf()
  }
}
function genData(d: number): any {
  const k = pick(['s','i','o','a','n','s1'])
  if (d<=0 || k==='s') return pick(['a','abc','x'])
  if (k==='i') return pick([1,2,5])
  if (k==='n') return null
  if (k==='s1') return 'b'
  if (k==='o') return {a: genData(d-1), b: genData(d-1), ...(rnd()<0.3?{c:genData(d-1)}:{})}
  return Array.from({length: Math.floor(rnd()*4)}, () => genData(d-1))
}
let mismatches = 0, withErrors = 0
for (let iter = 0; iter < 20000; iter++) {
  const schema = genSchema(4); const data = genData(3)
  if (typeof schema !== 'object') continue
  const ajv = new Ajv2020({strict:false,allErrors:true,validateSchema:false,logger:false})
  const v = ajv.compile(schema); v(data)
  const raw = v.errors ?? []
  const under = (x: string, p: string) => x === p || x.startsWith(p + '/')
  const oracle = raw.filter((e) => e.keyword !== 'if' && e.keyword !== 'propertyNames' && !raw.some((c) => ['anyOf','oneOf','contains'].includes(c.keyword) && e !== c && e.schemaPath.startsWith(c.schemaPath + '/') && under(e.instancePath, c.instancePath)))
  const want = oracle.map((e) => e.schemaPath.slice(1).replace('/false schema','')).sort()
  const r = validateRecord(schema, data)
  const got = r.ok ? [] : r.errors.map((e) => e.schema_path).sort()
  if (!r.ok) withErrors++
  if (JSON.stringify(want) !== JSON.stringify(got)) { mismatches++; if (mismatches < 4) console.log(JSON.stringify(schema), JSON.stringify(data), '\n want', want, '\n got', got) }
}
console.log('mismatches', mismatches, 'withErrors', withErrors)
