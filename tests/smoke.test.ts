import t from 'tap'
import { Worker } from 'node:worker_threads'
t.test('tsx loader reaches worker threads', async (t) => {
  const w = new Worker(new URL('data:text/javascript,import("node:worker_threads").then(m=>m.parentPort.postMessage(1))'))
  const v = await new Promise((r) => w.once('message', r))
  t.equal(v, 1)
  await w.terminate()
})
