/*
 * `@system.interconnect` as an app of the simulated watch sees it: a thin proxy of the watch's
 * platform model (sim/platform.py), which holds every rule of the link.
 *
 * What lives here is only what must run in the app's own realm: reading what `data` is (an
 * object, an array, a string…) before it is serialised, and the handler properties. An event
 * the platform marks `replay` is kept when no handler is set for it and handed to the handler
 * assigned later (as the openvela source does for onopen and onerror); `forget` drops a kept
 * one first.
 */
'use strict'

const { sysLine } = require('./format')

const KINDS = ['open', 'message', 'close', 'error']

// What `data` is, as the platform's rules need it: serialising loses the difference.
function dataType(data) {
  if (data === null) return 'null'
  if (Array.isArray(data)) return 'array'
  return typeof data
}

/*
 * The link of one app run. `app` gives: call(module, method, args, options), refuse(options,
 * data, code), run(fn, self, args) (app code, its throws the app's) and parse(text) (JSON in the
 * app's realm).
 */
function createLink(app) {
  const handlers = {}
  const kept = {} // kind -> fields a handler assigned later gets
  let conn = null

  function argument(fields) {
    return app.parse(JSON.stringify(fields || {}))
  }

  function handlerProperty(kind) {
    return {
      enumerable: true,
      get: () => handlers[kind],
      set: (fn) => {
        handlers[kind] = fn
        if (typeof fn === 'function' && kept[kind] !== undefined) {
          const fields = kept[kind]
          delete kept[kind]
          app.run(fn, conn, [argument(fields)])
        }
      },
    }
  }

  function makeConnection() {
    const c = app.parse('{}')
    c.getReadyState = (opts) => app.call('system.interconnect', 'getReadyState', {}, opts)
    c.diagnosis = (opts) => {
      const args = {}
      if (opts && opts.timeout !== undefined) args.timeout = opts.timeout
      app.call('system.interconnect', 'diagnosis', args, opts)
    }
    c.send = (opts) => {
      const o = opts && typeof opts === 'object' ? opts : {}
      let text
      try {
        text = JSON.stringify(o.data)
      } catch (e) {
        app.refuse(opts, 'data cannot be serialised: ' + e.message, 202)
        return
      }
      if (typeof text !== 'string') {
        app.refuse(opts, 'send needs data, an Object', 202)
        return
      }
      const args = { data: text, type: dataType(o.data) }
      if (typeof o.timeout === 'number') args.timeout = o.timeout
      app.call('system.interconnect', 'send', args, opts)
    }
    KINDS.forEach((kind) => Object.defineProperty(c, 'on' + kind, handlerProperty(kind)))
    return c
  }

  const module = app.parse('{}')
  module.instance = function () {
    if (conn === null) conn = makeConnection()
    return conn
  }

  // One `event` order of the platform. A message nobody listens for is said on the console,
  // so that a test can see where it went.
  function deliver(msg) {
    ;(msg.forget || []).forEach((kind) => delete kept[kind])
    const handler = handlers[msg.kind]
    if (typeof handler === 'function') {
      app.run(handler, conn, [argument(msg.fields)])
    } else if (msg.replay && KINDS.indexOf(msg.kind) >= 0) {
      kept[msg.kind] = msg.replay
    } else if (msg.kind === 'message') {
      const data = (msg.fields || {}).data
      app.system(sysLine('interconnect', 'onmessage', ['no handler set, message dropped', data]))
    }
  }

  return { module: module, deliver: deliver }
}

module.exports = { createLink: createLink, dataType: dataType }
