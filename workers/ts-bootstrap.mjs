// Loads a TypeScript worker module through tsx. Node 20 does not apply the parent's tsx loader hooks
// inside worker threads, so dev and test runs (which execute the .ts sources) start workers here.
import { tsImport } from 'tsx/esm/api'

await tsImport(process.argv[process.argv.length - 1], import.meta.url)
