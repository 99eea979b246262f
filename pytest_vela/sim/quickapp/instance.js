/*
 * An instance of the app's or a page's definition, with the framework's methods on it:
 * `$on` / `$off` / `$emit` / `$dispatch` / `$broadcast` (one event bus: a page's parent is the
 * app, the app's children are the open pages), `$watch` / `$nextTick` / `$set` / `$delete`, and
 * `$element` (a node answering the common calls without rendering).
 *
 * Nothing is reactive: `$watch` compares the watched value after each call into app code,
 * once that call is over (a framework batches its watchers the same way).
 */
'use strict'

const { makeElement } = require('./element')

// Keys of a definition that are the framework's, never methods of the instance.
const FRAMEWORK_KEYS = new Set([
  'data',
  'public',
  'protected',
  'private',
  '_descriptor',
  'style',
  'template',
  'manifest',
  'props',
  'computed',
  'events',
])

// instance -> { listeners: Map(name -> [handler]), watchers: [], parent, elements: Map }
const state = new WeakMap()

// `def` made an instance: its own copy of `data`, its functions bound to it, room for fields
// it never declared; `extra` (`$app`, `$page`, …) and the framework's methods not enumerable.
function instantiate(app, def, extra, parent) {
  const self = app.object()
  state.set(self, { listeners: new Map(), watchers: [], parent: parent, elements: new Map() })
  hidden(self, extra)
  hidden(self, methods(app, self))
  let data = def.data
  if (typeof data === 'function') data = app.run(data, self, [])
  if (data && typeof data === 'object') {
    const copy = app.toApp(data)
    Object.keys(copy).forEach((k) => {
      self[k] = copy[k]
    })
  }
  Object.keys(def).forEach((k) => {
    if (!FRAMEWORK_KEYS.has(k) && typeof def[k] === 'function') self[k] = def[k].bind(self)
  })
  const events = def.events
  if (events && typeof events === 'object') {
    Object.keys(events).forEach((name) => {
      if (typeof events[name] === 'function') listen(self, name, events[name].bind(self))
    })
  }
  app.instances.add(self)
  return self
}

function hidden(self, fields) {
  Object.keys(fields).forEach((k) => {
    Object.defineProperty(self, k, { value: fields[k], enumerable: false, writable: true })
  })
}

function listen(self, name, handler) {
  const listeners = state.get(self).listeners
  if (!listeners.has(name)) listeners.set(name, [])
  listeners.get(name).push(handler)
}

function methods(app, self) {
  const own = state.get(self)
  // Calls `self`'s handlers for `evt`; false once one of them stopped it.
  const deliver = (target, evt, stop) => {
    const handlers = (state.get(target).listeners.get(evt.type) || []).slice()
    for (const handler of handlers) {
      app.run(handler, target, [evt])
      if (stop.stopped) return false
    }
    return true
  }
  const event = (name, detail) => {
    const stop = { stopped: false }
    const evt = app.object()
    evt.type = name
    evt.detail = detail
    evt.stop = () => {
      stop.stopped = true
    }
    return [evt, stop]
  }
  const children = (target) => (target === app.appVm && app.pages ? app.pages.instances() : [])
  const broadcast = (target, evt, stop) => {
    for (const child of children(target)) {
      if (!deliver(child, evt, stop) || !broadcast(child, evt, stop)) return false
    }
    return true
  }
  return {
    $on(name, handler) {
      if (typeof handler === 'function') listen(self, String(name), handler)
    },
    $off(name, handler) {
      const key = String(name)
      if (handler === undefined) own.listeners.delete(key)
      else own.listeners.set(key, (own.listeners.get(key) || []).filter((h) => h !== handler))
    },
    $emit(name, detail) {
      const [evt, stop] = event(String(name), detail)
      deliver(self, evt, stop)
    },
    $dispatch(name, detail) {
      const [evt, stop] = event(String(name), detail)
      for (let target = self; target; target = state.get(target).parent) {
        if (!deliver(target, evt, stop)) return
      }
    },
    $broadcast(name, detail) {
      const [evt, stop] = event(String(name), detail)
      broadcast(self, evt, stop)
    },
    $watch(path, handler) {
      const watcher = { path: String(path), handler: handler }
      remember(watcher, read(self, watcher.path))
      own.watchers.push(watcher)
      app.watching++
      return () => {
        const at = own.watchers.indexOf(watcher)
        if (at >= 0) {
          own.watchers.splice(at, 1)
          app.watching--
        }
      }
    },
    $nextTick(fn) {
      queueMicrotask(() => {
        if (app.stopped) return
        flushWatchers(app)
        app.run(fn, self, [])
      })
    },
    $set(key, value) {
      self[key] = value
    },
    $delete(key) {
      delete self[key]
    },
    $element(id) {
      const key = String(id)
      if (!own.elements.has(key)) own.elements.set(key, makeElement(app, key))
      return own.elements.get(key)
    },
  }
}

// --- $watch --------------------------------------------------------------------------------------

function read(self, dotted) {
  const step = (obj, k) => (obj === null || obj === undefined ? obj : obj[k])
  return dotted.split('.').reduce(step, self)
}

function snapshot(value) {
  if (value === null || typeof value !== 'object') return undefined
  try {
    return JSON.stringify(value)
  } catch (e) {
    return undefined
  }
}

function remember(watcher, value) {
  watcher.value = value
  watcher.json = snapshot(value)
}

function changed(watcher, value) {
  if (value !== null && typeof value === 'object') {
    return value !== watcher.value || snapshot(value) !== watcher.json
  }
  return !Object.is(value, watcher.value)
}

// Calls every watcher whose value changed since it last looked: handler(new, old).
function flushWatchers(app) {
  if (app.watching === 0) return
  for (const self of Array.from(app.instances)) {
    for (const watcher of state.get(self).watchers.slice()) {
      const value = read(self, watcher.path)
      if (!changed(watcher, value)) continue
      const old = watcher.value
      remember(watcher, value)
      const fn = typeof watcher.handler === 'string' ? self[watcher.handler] : watcher.handler
      app.run(fn, self, [value, old])
    }
  }
}

// A destroyed page: out of the bus and its watchers gone.
function forget(app, self) {
  const own = state.get(self)
  app.instances.delete(self)
  app.watching -= own.watchers.length
  own.watchers = []
  own.listeners.clear()
}

module.exports = { instantiate, flushWatchers, forget }
