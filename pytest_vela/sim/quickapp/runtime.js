/*
 * One running app: its bundles loaded in a JavaScript context of its own, its life cycle, its
 * timers and console, the modules it imports, and its calls to the watch's platform.
 *
 * Each bundle is `export default function(global, globalThis, window, $app_exports$,
 * $app_evaluate$)` as the toolkit built it. Whatever app code throws is the app's uncaught
 * error (`run`), never the runtime's.
 */
'use strict'

const { createLink } = require('./interconnect')

const fs = require('fs')
const path = require('path')
const vm = require('vm')

const { describe, appFrames, show } = require('./format')
const { options } = require('./calls')
const { LoadError } = require('./errors')
const { instantiate, flushWatchers } = require('./instance')
const { Pages } = require('./pages')
const MODULES = require('./modules')

const EXPORT = 'export default '
const LEVELS = ['debug', 'log', 'info', 'warn', 'error']

class App {
  // `start` is the start order: package, unpacked `dir`, `device` settings, `data` directories.
  // `host` gives the pipe (`emit`) and the watch's clock (`nowMs`).
  constructor(start, host) {
    this.pkg = start.app
    this.dir = start.dir
    this.device = start.device || {}
    this.data = start.data || {}
    this.host = host
    this.stopped = false
    this.modules = {}
    this.pending = new Map() // call id -> what handles the platform's reply
    this.awaitingPerson = new Set() // call ids answered by the person at the watch (dialogs)
    this.timers = new Map() // timer id -> node timer
    this.due = new Map() // one-shot timer id -> when it fires (the watch's clock, ms)
    this.queued = 0 // callbacks `later` has queued and not yet run
    this.nextTimer = 0
    this.link = null // its @system.interconnect (interconnect.js), made when first imported
    this.manifest = null
    this.instances = new Set() // the app and its live pages, for $watch
    this.watching = 0 // how many $watch there are (none: nothing to flush)
    this.flushing = false
    this.onStop = [] // what modules undo when the app ends (vibrations, subscriptions)
    this.onExit = null // set by the host: the app ended itself
    this.scripts = new Map() // bundle -> its compiled script (a page's runs for each opening)
  }

  // --- loading ---

  load() {
    const manifest = this.readJson('manifest.json')
    this.manifest = manifest
    const level = (manifest.config || {}).logLevel || 'log'
    this.minLevel = level === 'off' ? LEVELS.length : Math.max(0, LEVELS.indexOf(level))
    this.pages = new Pages(this, manifest.router || {})
    this.ctx = vm.createContext(this.sandbox())
    this.global = vm.runInContext('globalThis', this.ctx)
    this.parse = vm.runInContext('(text) => JSON.parse(text)', this.ctx)
    this.ProtoPromise = vm.runInContext('Promise.prototype', this.ctx)

    const appDef = this.evaluate('app.js').default || {}
    // `this.$app.$def` (pages) is the app: what app.ux exports, and what its hooks set on it.
    let appVm = null
    const $def = new Proxy(appDef, {
      get: (def, key) => (appVm !== null && key in appVm ? appVm[key] : def[key]),
      set: (def, key, value) => {
        ;(appVm || def)[key] = value
        return true
      },
    })
    appVm = instantiate(this, appDef, { $def: $def }, null)
    this.appVm = appVm
  }

  readJson(rel) {
    let text
    try {
      text = fs.readFileSync(path.join(this.dir, rel), 'utf8')
    } catch (e) {
      throw new LoadError('cannot read ' + rel + ': ' + e.code)
    }
    try {
      return JSON.parse(text)
    } catch (e) {
      throw new LoadError(rel + ' is not JSON: ' + e.message)
    }
  }

  // Runs one bundle; returns its $app_exports$.
  evaluate(rel) {
    const exportsObj = this.object()
    let factory
    try {
      if (!this.scripts.has(rel)) this.scripts.set(rel, this.compile(rel))
      factory = this.scripts.get(rel).runInContext(this.ctx)
    } catch (e) {
      if (e instanceof LoadError) throw e
      throw new LoadError(rel + ': ' + describe(e))
    }
    const g = this.global
    factory.call(g, g, g, g, exportsObj, undefined)
    return exportsObj
  }

  compile(rel) {
    let source
    try {
      source = fs.readFileSync(path.join(this.dir, rel), 'utf8')
    } catch (e) {
      if (e.code === 'ENOENT' && this.hasBytecode(rel)) throw new LoadError(bytecode(rel))
      throw new LoadError('cannot read ' + rel + ': ' + e.code)
    }
    if (!source.startsWith(EXPORT + 'function')) {
      throw new LoadError(
        rel +
          ' is not a JavaScript bundle of the toolkit (no `export default function`): if it ' +
          'is bytecode (--enable-jsc), the simulated watch cannot run it; rebuild without ' +
          '--enable-jsc'
      )
    }
    // The module's one export made an expression; lines and columns stay where they were.
    const code = '(' + ' '.repeat(EXPORT.length - 1) + source.slice(EXPORT.length) + '\n)'
    return new vm.Script(code, { filename: rel })
  }

  // `--enable-jsc` builds compile every .js of the rpk and delete it (toolkit 1.1.4's packager).
  hasBytecode(rel) {
    return fs.existsSync(path.join(this.dir, rel.replace(/\.js$/, '.jsc'))) || !holdsJs(this.dir)
  }

  sandbox() {
    const app = this
    const consoleObj = {}
    LEVELS.forEach((level) => {
      consoleObj[level] = (...args) => app.print(level, args)
    })
    consoleObj.trace = (...args) => app.print('debug', args)
    return {
      setTimeout: (fn, ms, ...args) => app.setTimer(false, fn, ms, args),
      setInterval: (fn, ms, ...args) => app.setTimer(true, fn, ms, args),
      clearTimeout: (id) => app.clearTimer(id),
      clearInterval: (id) => app.clearTimer(id),
      console: consoleObj,
      performance: { now: this.host.nowMs, timeOrigin: Date.now() - this.host.nowMs() },
      queueMicrotask: (fn) => Promise.resolve().then(() => app.run(fn, undefined, [])),
      $app_require$: (name) => app.require(name),
      // The engine's garbage collection, asked for by apps (webpack's global.runGC): nothing
      // to collect here.
      runGC: () => undefined,
      // Only a rendering template calls it; nothing is rendered here.
      aiot: { __ce__: () => null },
    }
  }

  object() {
    return this.parse('{}')
  }

  // A value handed to app code: made in the app's own realm (its Object, its Array).
  toApp(value) {
    return value === undefined ? undefined : this.parse(JSON.stringify(value))
  }

  // --- life cycle ---

  start() {
    this.load()
    this.hook(this.appVm, 'onCreate')
    this.pages.openEntry()
  }

  stop() {
    if (this.stopped) return
    this.pages.closeAll()
    this.hook(this.appVm, 'onDestroy')
    this.stopped = true
    this.timers.forEach((t) => clearTimeout(t))
    this.timers.clear()
    this.due.clear()
    this.pending.clear()
    this.awaitingPerson.clear()
    this.onStop.forEach((undo) => undo())
  }

  // The app ends itself (app.terminate, back from its last page), after the current call.
  exit() {
    this.queued++
    setImmediate(() => {
      this.queued--
      if (this.stopped) return
      this.stop()
      if (this.onExit) this.onExit()
    })
  }

  hook(instance, name) {
    if (instance && typeof instance[name] === 'function') this.run(instance[name], instance, [])
  }

  // Calls app code; whatever it throws is the app's uncaught exception, never the host's.
  run(fn, self, args) {
    if (this.stopped || typeof fn !== 'function') return undefined
    try {
      return fn.apply(self, args)
    } catch (e) {
      this.uncaught(e, false)
      return undefined
    } finally {
      this.scheduleFlush()
    }
  }

  // $watch callbacks run once the app's current call is over, as a framework batches them.
  scheduleFlush() {
    if (this.watching === 0 || this.flushing || this.stopped) return
    this.flushing = true
    queueMicrotask(() => {
      this.flushing = false
      if (!this.stopped) flushWatchers(this)
    })
  }

  uncaught(err, inPromise) {
    const text = 'Uncaught ' + (inPromise ? '(in promise) ' : '') + describe(err)
    this.host.emit('uncaught', { app: this.pkg, text: text, stack: appFrames(err) })
  }

  // --- timers and console ---

  setTimer(repeat, fn, ms, args) {
    if (this.stopped) return 0
    const id = ++this.nextTimer
    const delay = Math.max(0, Number(ms) || 0)
    const fire = () => {
      if (!repeat) {
        this.timers.delete(id)
        this.due.delete(id)
      }
      if (typeof fn === 'function') this.run(fn, undefined, args)
    }
    this.timers.set(id, repeat ? setInterval(fire, delay) : setTimeout(fire, delay))
    // An interval is the app's steady work, never done: only a one-shot timer is awaited.
    if (!repeat) this.due.set(id, this.host.nowMs() + delay)
    return id
  }

  clearTimer(id) {
    const t = this.timers.get(id)
    if (t !== undefined) {
      clearTimeout(t)
      this.timers.delete(id)
      this.due.delete(id)
    }
  }

  print(level, args) {
    if (LEVELS.indexOf(level) < this.minLevel) return
    this.host.emit('console', { app: this.pkg, level: level, text: args.map(show).join(' ') })
  }

  // A `[SYS]` line (format.sysLine): what the watch shows or does, whatever the log level.
  system(line) {
    this.host.emit('console', { app: this.pkg, level: 'info', text: line })
  }

  // --- modules ---

  require(name) {
    const id = String(name).replace(/^@app-module\//, '').replace(/^@/, '')
    if (!this.modules[id]) this.modules[id] = MODULES.create(this, id)
    return this.modules[id]
  }

  // Calls the watch's platform; `handle(msg)` gets its reply (by default the callbacks of
  // `opts`: success(value) or fail(data, code), then complete).
  call(module, method, args, opts, handle) {
    const o = options(opts)
    const id = App.nextCall++
    this.pending.set(id, handle || ((msg) => this.settle(o, msg)))
    if (module === 'system.prompt') this.awaitingPerson.add(id)
    this.host.emit('call', { app: this.pkg, call: id, module: module, method: method, args: args })
  }

  reply(msg) {
    const handle = this.pending.get(msg.call)
    if (handle === undefined) return
    this.pending.delete(msg.call)
    this.awaitingPerson.delete(msg.call)
    handle(msg)
  }

  // Whether the app has something left to do within `ms`: a call the platform will answer (a
  // dialog waits for a person, not counted), a callback queued, a one-shot timer due that soon.
  busyWithin(ms) {
    if (this.stopped) return false
    if (this.pending.size > this.awaitingPerson.size || this.queued > 0) return true
    const soon = this.host.nowMs() + ms
    for (const at of this.due.values()) {
      if (at <= soon) return true
    }
    return false
  }

  settle(o, msg) {
    if (msg.ok) {
      const value = this.toApp(msg.value)
      this.run(o.success, o, value === undefined ? [] : [value])
    } else {
      this.run(o.fail, o, [this.toApp(msg.data), msg.code])
    }
    this.run(o.complete, o, [])
  }

  // Runs `fn` later, as the platform's answers come, unless the app has ended by then.
  later(fn) {
    this.queued++
    setImmediate(() => {
      this.queued--
      if (!this.stopped) fn()
    })
  }

  // success(value) (no argument when `value` is undefined), then complete, later.
  answer(opts, value) {
    const o = options(opts)
    this.later(() => this.settle(o, { ok: true, value: value }))
  }

  // success(value) with a value already made for the app (a Uint8Array), then complete, later.
  answerRaw(opts, value) {
    const o = options(opts)
    this.later(() => {
      this.run(o.success, o, [value])
      this.run(o.complete, o, [])
    })
  }

  // fail(data, code), then complete, later.
  refuse(opts, data, code) {
    const o = options(opts)
    this.later(() => this.settle(o, { ok: false, data: data, code: code }))
  }

  // The app's link (interconnect.js), made when first needed: its realm is up by then.
  linkOf() {
    if (this.link === null) this.link = createLink(this)
    return this.link
  }

  event(msg) {
    this.linkOf().deliver(msg)
  }
}
App.nextCall = 1

function holdsJs(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).some((entry) => {
    if (entry.isDirectory()) return holdsJs(path.join(dir, entry.name))
    return entry.name.endsWith('.js')
  })
}

function bytecode(rel) {
  return (
    rel +
    ' is missing and the rpk holds bytecode instead: it was built with --enable-jsc, which ' +
    'the simulated watch cannot run; rebuild without --enable-jsc'
  )
}

module.exports = { App }
