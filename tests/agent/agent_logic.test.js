// Unit tests of the agent's protocol logic under plain node, with a fake @system.interconnect.
// Usage: node agent_logic.test.js <path to src/common/agent.js>. Exits 1 if any test fails.
'use strict'

const assert = require('assert')
const path = require('path')

const agentPath = path.resolve(process.argv[2])
const { createAgent, PREFIX, QUEUE_LIMIT, MAX_TRIES } = require(agentPath)

// A connection whose API calls are recorded and answered by the test: each call's callbacks
// are kept so a test decides when (and whether) they fire, as the real link would.
function fakeConnect() {
  const conn = { sends: [], calls: [] }
  conn.send = (args) => conn.sends.push(args)
  conn.getReadyState = (args) => conn.calls.push({ op: 'getReadyState', args })
  conn.diagnosis = (args) => conn.calls.push({ op: 'diagnosis', args })
  return conn
}

function setUp(extra) {
  const conn = fakeConnect()
  const lines = []
  let now = 1000
  const agent = createAgent(
    Object.assign(
      { connect: conn, log: (l) => lines.push(l), clock: () => now++, package: 'com.example.app' },
      extra || {}
    )
  )
  agent.start()
  // Console lines parsed back; every line must carry the prefix.
  const logged = () =>
    lines.map((l) => {
      assert.ok(l.startsWith(PREFIX), 'unprefixed console line: ' + l)
      return JSON.parse(l.slice(PREFIX.length))
    })
  // Messages the agent sent through the link, split into envelopes and app data.
  const envelopes = () => conn.sends.filter((s) => s.data && s.data.__vela).map((s) => s.data.__vela)
  const appSends = () => conn.sends.filter((s) => !(s.data && s.data.__vela))
  const command = (cmd) =>
    conn.onmessage({ data: JSON.stringify({ __vela: Object.assign({ t: 'cmd' }, cmd) }) })
  return { conn, agent, logged, envelopes, appSends, command }
}

const tests = []
const test = (name, fn) => tests.push({ name, fn })

test('handlers are assigned as properties', () => {
  const { conn } = setUp()
  for (const h of ['onopen', 'onmessage', 'onclose', 'onerror']) {
    assert.strictEqual(typeof conn[h], 'function', h)
  }
})

test('events are numbered from 1, timestamped, logged and forwarded when the link is up', () => {
  const { conn, logged, envelopes } = setUp()
  conn.onopen({ isReconnected: false })
  conn.onmessage({ data: '{"n":1}' })
  const evts = logged().filter((m) => m.t === 'evt')
  assert.deepStrictEqual(
    evts.map((e) => [e.seq, e.kind]),
    [[1, 'open'], [2, 'message']]
  )
  assert.strictEqual(evts[0].isReconnected, false)
  assert.strictEqual(evts[1].data, '{"n":1}', 'message data is the string as received')
  assert.ok(evts[1].ts > evts[0].ts)
  const sent = envelopes()
  assert.strictEqual(sent[0].t, 'hello', 'hello goes first after onopen')
  assert.strictEqual(sent[0].package, 'com.example.app')
  assert.deepStrictEqual(sent.filter((m) => m.t === 'evt'), evts)
})

test('a non-JSON or non-envelope message is an app message event', () => {
  const { conn, logged } = setUp()
  conn.onopen({ isReconnected: false })
  conn.onmessage({ data: 'plain text' })
  conn.onmessage({ data: '[1,2]' })
  conn.onmessage({ data: '{"vela":1}' })
  const kinds = logged().filter((m) => m.t === 'evt').map((e) => e.kind)
  assert.deepStrictEqual(kinds, ['open', 'message', 'message', 'message'])
})

test('a command is run, answered in an envelope and not recorded as a message', () => {
  const { conn, logged, envelopes, command } = setUp()
  conn.onopen({ isReconnected: false })
  command({ id: 7, op: 'getReadyState' })
  assert.strictEqual(conn.calls.length, 1)
  conn.calls[0].args.success({ status: 1 })
  const res = envelopes().filter((m) => m.t === 'res')
  assert.deepStrictEqual(res, [{ t: 'res', id: 7, ok: true, status: 1 }])
  assert.deepStrictEqual(logged().filter((m) => m.t === 'res'), res)
  assert.ok(!logged().some((m) => m.kind === 'message'))
})

test('fail(data, code) becomes ok:false with code and data; the object form is read too', () => {
  const { conn, envelopes, command } = setUp()
  conn.onopen({ isReconnected: false })
  command({ id: 1, op: 'getReadyState' })
  conn.calls[0].args.fail('disconnected', 1006)
  command({ id: 2, op: 'diagnosis' })
  conn.calls[1].args.fail({ data: 'busy', code: 205 })
  const res = envelopes().filter((m) => m.t === 'res')
  assert.deepStrictEqual(res, [
    { t: 'res', id: 1, ok: false, code: 1006, data: 'disconnected' },
    { t: 'res', id: 2, ok: false, code: 205, data: 'busy' },
  ])
})

test('diagnosis passes the timeout only when given', () => {
  const { conn, envelopes, command } = setUp()
  conn.onopen({ isReconnected: false })
  command({ id: 1, op: 'diagnosis', timeout: 3000 })
  command({ id: 2, op: 'diagnosis' })
  assert.strictEqual(conn.calls[0].args.timeout, 3000)
  assert.ok(!('timeout' in conn.calls[1].args), 'API default applies')
  conn.calls[1].args.success({ status: 1001 })
  assert.deepStrictEqual(envelopes().filter((m) => m.t === 'res'), [
    { t: 'res', id: 2, ok: true, status: 1001 },
  ])
})

test('send passes the data Object through unserialised and reports the outcome', () => {
  const { conn, envelopes, appSends, command } = setUp()
  conn.onopen({ isReconnected: false })
  command({ id: 3, op: 'send', data: { n: 1, s: 'x' } })
  const sent = appSends()
  assert.strictEqual(sent.length, 1)
  assert.deepStrictEqual(sent[0].data, { n: 1, s: 'x' })
  assert.strictEqual(typeof sent[0].data, 'object')
  sent[0].fail('ack timeout', 204)
  assert.deepStrictEqual(envelopes().filter((m) => m.t === 'res'), [
    { t: 'res', id: 3, ok: false, code: 204, data: 'ack timeout' },
  ])
})

test('clock answers with the agent clock; unknown ops and malformed envelopes fail with the bridge codes 4101 / 4102', () => {
  const { conn, logged, command } = setUp()
  conn.onopen({ isReconnected: false })
  command({ id: 4, op: 'clock' })
  command({ id: 5, op: 'selfDestruct' })
  conn.onmessage({ data: '{"__vela":{"t":"evt"}}' })
  const res = logged().filter((m) => m.t === 'res')
  assert.strictEqual(res[0].ok, true)
  assert.strictEqual(typeof res[0].clock, 'number')
  assert.deepStrictEqual([res[1].ok, res[1].code], [false, 4101])
  assert.deepStrictEqual([res[2].id, res[2].ok, res[2].code], [null, false, 4102])
  assert.ok(!logged().some((m) => m.kind === 'message'), 'reserved key never makes a message')
})

test('events during link loss are queued and replayed in order after the next onopen', () => {
  const { conn, logged, envelopes } = setUp()
  conn.onopen({ isReconnected: false })
  const before = conn.sends.length
  conn.onerror({ code: 1006, data: 'link lost' })
  conn.onclose({ code: 1006, data: 'link lost' })
  assert.strictEqual(conn.sends.length, before, 'nothing is sent while the link is down')
  const evts = logged().filter((m) => m.t === 'evt')
  assert.deepStrictEqual(evts.map((e) => e.kind), ['open', 'error', 'close'])
  assert.deepStrictEqual([evts[1].code, evts[2].code], [1006, 1006])
  conn.onopen({ isReconnected: true })
  const replay = envelopes().slice(-4)
  assert.deepStrictEqual(replay.map((m) => m.t + ':' + (m.kind || '')), [
    'hello:', 'evt:error', 'evt:close', 'evt:open',
  ])
  assert.deepStrictEqual(replay.slice(1).map((m) => m.seq), [2, 3, 4])
  assert.strictEqual(replay[3].isReconnected, true)
})

test('a report whose forwarding fails is retried in order with the next flush', () => {
  const { conn, agent, envelopes } = setUp()
  conn.onopen({ isReconnected: false })
  conn.onmessage({ data: 'a' })
  // The phone did not acknowledge the forwarded event.
  conn.sends[conn.sends.length - 1].fail('timeout', 204)
  assert.strictEqual(agent.state().queued, 1)
  conn.onmessage({ data: 'b' })
  const evts = envelopes().filter((m) => m.t === 'evt').map((m) => m.data)
  assert.deepStrictEqual(evts.slice(-2), ['a', 'b'])
  assert.strictEqual(agent.state().queued, 0)
})

test('a report that keeps failing is given up after MAX_TRIES and counted as dropped', () => {
  const { conn, agent, envelopes } = setUp()
  conn.onopen({ isReconnected: false })
  conn.onmessage({ data: 'too big' })
  for (let i = 0; i < MAX_TRIES; i++) {
    const attempts = conn.sends.filter((x) => x.data.__vela && x.data.__vela.data === 'too big')
    assert.strictEqual(attempts.length, i + 1)
    attempts[i].fail('too large', 202)
    if (i < MAX_TRIES - 1) conn.onmessage({ data: 'next' + i }) // triggers the retry
  }
  assert.strictEqual(agent.state().queued, 0)
  assert.strictEqual(agent.state().dropped, 1)
  conn.onclose({ code: 1000, data: '' })
  conn.onopen({ isReconnected: true })
  const hello = envelopes().filter((m) => m.t === 'hello').pop()
  assert.strictEqual(hello.dropped, 1)
})

test('the queue is bounded: the oldest reports are dropped and hello counts them', () => {
  const { conn, agent, envelopes } = setUp()
  for (let i = 0; i < QUEUE_LIMIT + 5; i++) conn.onmessage({ data: 'm' + i })
  assert.strictEqual(agent.state().queued, QUEUE_LIMIT)
  // The open event itself is queued before the flush and pushes out one more.
  conn.onopen({ isReconnected: false })
  const sent = envelopes()
  assert.strictEqual(sent[0].t, 'hello')
  assert.strictEqual(sent[0].dropped, 6)
  assert.strictEqual(sent[1].data, 'm6')
  assert.strictEqual(sent[sent.length - 1].kind, 'open')
  assert.strictEqual(sent.length, 1 + QUEUE_LIMIT)
})

test('reset restarts the event counter and empties the queue', () => {
  const { conn, agent, logged, command } = setUp()
  conn.onopen({ isReconnected: false })
  conn.onmessage({ data: 'x' })
  const inflight = conn.sends[conn.sends.length - 1]
  command({ id: 9, op: 'reset' })
  inflight.fail('late', 204) // must not come back after the reset
  assert.strictEqual(agent.state().queued, 0)
  conn.onmessage({ data: 'y' })
  const last = logged().filter((m) => m.t === 'evt').pop()
  assert.deepStrictEqual([last.seq, last.data], [1, 'y'])
})

let failed = 0
for (const t of tests) {
  try {
    t.fn()
    console.log('ok - ' + t.name)
  } catch (e) {
    failed++
    console.log('not ok - ' + t.name + '\n' + (e && e.stack ? e.stack : e))
  }
}
console.log(`${tests.length - failed}/${tests.length} passed`)
process.exit(failed ? 1 : 0)
