/*
 * What every system module shares: the vendor's general fail codes, and a module object whose
 * emulated methods are given and whose every other method is a stub that says so and fails.
 */
'use strict'

// The general codes of a `fail(data, code)` (Vela's general error codes; file adds 300/301).
const CODE = {
  SYSTEM: 200,
  PARAMETER: 202,
  NOT_SUPPORTED: 203,
  DUPLICATE: 205,
  IO: 300,
  NO_FILE: 301,
}

// Names a module lookup must never turn into a stub: asked by interop helpers and JSON.
const NOT_METHODS = new Set(['__esModule', 'then', 'toJSON', 'constructor', 'default'])

function options(opts) {
  return opts !== null && typeof opts === 'object' ? opts : {}
}

// `@<id>` as the app imports it: `methods` are emulated, anything else is a stub that logs
// `@<id>.<name>() is not simulated` and answers fail(…, 203).
function makeModule(app, id, methods) {
  const made = {}
  const target = app.object()
  Object.keys(methods || {}).forEach((name) => {
    target[name] = methods[name]
  })
  return new Proxy(target, {
    get(obj, prop) {
      if (Object.prototype.hasOwnProperty.call(obj, prop)) return obj[prop]
      if (typeof prop !== 'string' || NOT_METHODS.has(prop)) return undefined
      if (!made[prop]) {
        made[prop] = function (opts) {
          app.print('warn', ['@' + id + '.' + prop + '() is not simulated'])
          app.refuse(opts, '@' + id + ' is not simulated', CODE.NOT_SUPPORTED)
          return undefined
        }
      }
      return made[prop]
    },
  })
}

// Whether `@<id>.<method>` is emulated (app.canIUse).
function emulates(mod, method) {
  return Object.prototype.hasOwnProperty.call(Object(mod), method)
}

module.exports = { CODE, options, makeModule, emulates }
