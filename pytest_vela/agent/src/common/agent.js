/*
 * The pytest-vela agent: drives @system.interconnect on command and reports what happens.
 *
 * Pure logic, free of quick-app modules: the page hands in the connection object and a log
 * function, so the same file runs under plain node with a fake connection (see the plugin's
 * tests). Written as CommonJS in ES2015 so both the toolkit's webpack and node load it as is.
 *
 * Protocol (docs/protocol.md in the pytest-vela repository): results `res` and events `evt`,
 * each also printed as one console line `VELA-AGENT <json>`. On a real watch the only channel
 * to the harness is the interconnect link itself, so commands and reports travel inside
 * ordinary interconnect messages under the reserved key `__vela`.
 */
'use strict'

var PREFIX = 'VELA-AGENT '
var ENVELOPE = '__vela'
var AGENT_VERSION = '1'
// Reports kept while the link is down. Oldest are dropped beyond this; `hello` counts them.
var QUEUE_LIMIT = 256
// Forwarding attempts per report before it is given up (e.g. one too large for the link):
// it stays in the console log, and `hello` counts it as dropped.
var MAX_TRIES = 3

function defaultClock() {
  // A monotonic clock when the runtime has one; wall-clock ms otherwise. The harness only
  // needs one clock used consistently for `ts` and for the `clock` command.
  if (typeof performance !== 'undefined' && performance && typeof performance.now === 'function') {
    return Math.floor(performance.now())
  }
  return Date.now()
}

// The API documents `fail(data, code)`, but the vendor's own example for send() reads
// `data.code` / `data.data`: accept both shapes so a failure is never reported without a code.
// The bridge's own failure codes (docs/protocol.md), outside the API's code space: the agent
// could not run the command at all.
var UNKNOWN_OP = 4101
var MALFORMED = 4102

function failure(data, code) {
  if (code === undefined && data !== null && typeof data === 'object') {
    return { code: data.code, data: data.data }
  }
  return { code: code, data: data }
}

// Returns the command inside an incoming message, `null` for an ordinary app message, or
// `{ malformed: reason }` for a message that uses the reserved key without a valid command.
function parseCommand(text) {
  var obj
  try {
    obj = JSON.parse(text)
  } catch (e) {
    return null
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return null
  if (!Object.prototype.hasOwnProperty.call(obj, ENVELOPE)) return null
  var cmd = obj[ENVELOPE]
  if (cmd === null || typeof cmd !== 'object' || cmd.t !== 'cmd' || typeof cmd.op !== 'string') {
    return { malformed: 'reserved key ' + ENVELOPE + ' without a cmd message' }
  }
  return cmd
}

/*
 * options:
 *   connect  the object from interconnect.instance()
 *   log      function(line): prints one console line
 *   clock    function(): ms (optional)
 *   package  the app's package name, for `hello` (optional)
 *   onReport function(msg): called with every res / evt, e.g. to show it on screen (optional)
 */
function createAgent(options) {
  var connect = options.connect
  var log = options.log
  var clock = options.clock || defaultClock
  var onReport = options.onReport || function () {}

  var seq = 0 // last event number; events count from 1 per app run (or since `reset`)
  var linkUp = false // between onopen and the next onclose / onerror
  var queue = [] // reports not yet delivered, oldest first: { n, msg }
  var reported = 0 // orders queued reports, so a retried one goes back in its place
  var dropped = 0
  var generation = 0 // bumped by `reset`, so sends still in flight cannot refill the queue

  function enqueue(item) {
    var i = queue.length
    while (i > 0 && queue[i - 1].n > item.n) i--
    queue.splice(i, 0, item)
    while (queue.length > QUEUE_LIMIT) {
      queue.shift()
      dropped++
    }
  }

  function envelope(msg) {
    var data = {}
    data[ENVELOPE] = msg
    return data
  }

  // Sends everything queued, in order. A report whose send fails (the link went down, or the
  // phone did not acknowledge in time) goes back into the queue for the next flush, up to
  // MAX_TRIES attempts.
  function flush() {
    var items = queue
    var gen = generation
    queue = []
    items.forEach(function (item) {
      connect.send({
        data: envelope(item.msg),
        success: function () {},
        fail: function () {
          if (gen !== generation) return
          item.tries++
          if (item.tries < MAX_TRIES) enqueue(item)
          else dropped++
        },
      })
    })
  }

  function report(msg) {
    log(PREFIX + JSON.stringify(msg))
    onReport(msg)
    enqueue({ n: ++reported, msg: msg, tries: 0 })
    if (linkUp) flush()
  }

  function recordEvent(kind, fields) {
    var evt = { t: 'evt', seq: ++seq, kind: kind, ts: clock() }
    Object.keys(fields).forEach(function (k) {
      evt[k] = fields[k]
    })
    report(evt)
  }

  function answer(id, ok, fields) {
    var res = { t: 'res', id: id, ok: ok }
    Object.keys(fields || {}).forEach(function (k) {
      res[k] = fields[k]
    })
    report(res)
  }

  function answerFailure(id, data, code) {
    answer(id, false, failure(data, code))
  }

  function sayHello() {
    // Not queued and not numbered: it describes the agent at the moment the link opens.
    var hello = { t: 'hello', agent: AGENT_VERSION, package: options.package || '', clock: clock() }
    if (dropped > 0) hello.dropped = dropped
    log(PREFIX + JSON.stringify(hello))
    connect.send({ data: envelope(hello), success: function () {}, fail: function () {} })
  }

  function runCommand(cmd) {
    var id = cmd.id
    switch (cmd.op) {
      case 'getReadyState':
        connect.getReadyState({
          success: function (data) {
            answer(id, true, { status: data.status })
          },
          fail: function (data, code) {
            answerFailure(id, data, code)
          },
        })
        break
      case 'diagnosis': {
        var args = {
          success: function (data) {
            answer(id, true, { status: data.status })
          },
          fail: function (data, code) {
            answerFailure(id, data, code)
          },
        }
        // Left out when not given, so the API's own default (10000 ms) applies.
        if (typeof cmd.timeout === 'number') args.timeout = cmd.timeout
        connect.diagnosis(args)
        break
      }
      case 'send':
        // `data` is passed on as the Object it arrived as: the API serialises it once.
        connect.send({
          data: cmd.data === undefined ? {} : cmd.data,
          success: function () {
            answer(id, true)
          },
          fail: function (data, code) {
            answerFailure(id, data, code)
          },
        })
        break
      case 'clock':
        answer(id, true, { clock: clock() })
        break
      case 'reset':
        seq = 0
        queue = []
        dropped = 0
        generation++
        answer(id, true)
        break
      default:
        answer(id, false, { code: UNKNOWN_OP, data: 'unknown op: ' + cmd.op })
    }
  }

  function start() {
    // Handlers are assigned as properties: the API has no .on() registration.
    connect.onopen = function (e) {
      recordEvent('open', { isReconnected: e ? e.isReconnected : undefined })
      linkUp = true
      sayHello()
      flush()
    }
    connect.onmessage = function (e) {
      var text = e ? e.data : undefined
      var cmd = typeof text === 'string' ? parseCommand(text) : null
      if (cmd === null) {
        recordEvent('message', { data: text })
      } else if (cmd.malformed) {
        answer(null, false, { code: MALFORMED, data: cmd.malformed })
      } else {
        runCommand(cmd)
      }
    }
    connect.onclose = function (e) {
      linkUp = false
      recordEvent('close', { code: e ? e.code : undefined, data: e ? e.data : undefined })
    }
    connect.onerror = function (e) {
      // An error means the link is unusable until the next onopen (1006 is followed by close).
      linkUp = false
      recordEvent('error', { code: e ? e.code : undefined, data: e ? e.data : undefined })
    }
  }

  return {
    start: start,
    // For tests and the page: a snapshot of the agent's state.
    state: function () {
      return { seq: seq, linkUp: linkUp, queued: queue.length, dropped: dropped }
    },
  }
}

module.exports = {
  PREFIX: PREFIX,
  ENVELOPE: ENVELOPE,
  QUEUE_LIMIT: QUEUE_LIMIT,
  MAX_TRIES: MAX_TRIES,
  createAgent: createAgent,
  parseCommand: parseCommand,
  failure: failure,
}
