/*
 * @system.storage: the app's key-value store, kept in one JSON file of its data directory
 * (the start order's `data.storage`), so that it lasts across launches and reboots and goes
 * with the app's data on uninstall. Read and written on every call: a test may set it from
 * outside (vela_sim.set_storage) while the app runs.
 */
'use strict'

const fs = require('fs')
const path = require('path')

const { CODE, options, makeModule } = require('../calls')

module.exports = function storage(app, id) {
  const file = app.data.storage
  const load = () => {
    try {
      const found = JSON.parse(fs.readFileSync(file, 'utf8'))
      return found !== null && typeof found === 'object' ? found : {}
    } catch (e) {
      return {}
    }
  }
  const save = (values) => {
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file + '.new', JSON.stringify(values))
    fs.renameSync(file + '.new', file)
  }
  // Runs `change(values)` on the stored values, then success/fail as it went.
  const update = (opts, change) => {
    try {
      const values = load()
      change(values)
      save(values)
    } catch (e) {
      app.refuse(opts, 'storage: ' + e.message, CODE.IO)
      return
    }
    app.answer(opts)
  }
  const key = (opts) => {
    const k = options(opts).key
    if (typeof k === 'string' && k) return k
    app.refuse(opts, 'key must be a non-empty string', CODE.PARAMETER)
    return null
  }
  if (!file) {
    return makeModule(app, id, {})
  }
  return makeModule(app, id, {
    // The value of key, else `default`, else ''.
    get(opts) {
      const k = key(opts)
      if (k === null) return
      const values = load()
      const fallback = options(opts).default
      const value = Object.prototype.hasOwnProperty.call(values, k) ? values[k] : fallback
      app.answer(opts, value === undefined ? '' : String(value))
    },
    // A value of '' deletes the key.
    set(opts) {
      const k = key(opts)
      if (k === null) return
      const value = options(opts).value
      const text = value === undefined || value === null ? '' : String(value)
      update(opts, (values) => {
        if (text === '') delete values[k]
        else values[k] = text
      })
    },
    clear(opts) {
      update(opts, (values) => Object.keys(values).forEach((k) => delete values[k]))
    },
    delete(opts) {
      const k = key(opts)
      if (k !== null) update(opts, (values) => delete values[k])
    },
  })
}
