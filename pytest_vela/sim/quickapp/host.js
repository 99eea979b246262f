/*
 * The simulated watch's quick-app runtime: runs the JavaScript bundles of built rpks.
 *
 * One process per simulated watch; the watch (a Python process) starts it with
 *   node host.js <clock epoch, CLOCK_MONOTONIC ns>
 * and talks to it over the pipe defined in pipe.py beside this file: JSON lines, orders on
 * stdin, the apps' calls and output on stdout. stdout carries nothing else; the host's own
 * complaints go to stderr (the simulator's log).
 *
 * What an app gets: its app.js and the router's entry page loaded as the toolkit built them
 * (each bundle is `export default function(global, globalThis, window, $app_exports$,
 * $app_evaluate$)`), in a JavaScript context of its own; the life cycle (app onCreate, page
 * onInit, onReady, onShow; onHide, onDestroy, app onDestroy when stopped); timers; console;
 * `this.$app`. Nothing is rendered. `@system.interconnect` is a thin proxy (interconnect.js):
 * every rule of the link lives in the watch's platform model, which answers the calls made
 * here. `@system.app` answers getInfo() from the manifest. Any other module is a stub whose
 * every method logs that it is not simulated and calls `fail`.
 */
'use strict'

const fs = require('fs')
const path = require('path')
const readline = require('readline')
const vm = require('vm')

const interconnect = require('./interconnect')

// The pipe's messages (pipe.py is their definition; a test holds this table against it).
const PIPE = {
  toHost: ['start', 'stop', 'event', 'reply'],
  fromHost: ['ready', 'started', 'failed', 'stopped', 'console', 'uncaught', 'call'],
}

const EPOCH = process.argv[2] ? BigInt(process.argv[2]) : process.hrtime.bigint()
const EXPORT = 'export default '
const LEVELS = ['debug', 'log', 'info', 'warn', 'error']
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
])
const NOT_SUPPORTED = 203

// The watch's monotonic clock in ms, the same clock as the simulated watch's own.
function nowMs() {
  return Number(process.hrtime.bigint() - EPOCH) / 1e6
}

function emit(op, fields) {
  process.stdout.write(JSON.stringify(Object.assign({ op: op }, fields)) + '\n')
}

function complain(text) {
  process.stderr.write('quickapp host: ' + text + '\n')
}

class LoadError extends Error {}

// --- one running app ---------------------------------------------------------------------------

class App {
  constructor(pkg, dir) {
    this.pkg = pkg
    this.dir = dir
    this.stopped = false
    this.modules = {}
    this.pending = new Map() // call id -> the callbacks of that API call
    this.timers = new Map() // timer id -> node timer
    this.nextTimer = 0
    this.link = null
    this.manifest = null
    this.files = []
  }

  // --- loading ---

  load() {
    const manifest = this.readJson('manifest.json')
    this.manifest = manifest
    const router = manifest.router || {}
    const entry = router.entry
    const page = (router.pages || {})[entry]
    if (!entry || !page) throw new LoadError('manifest.json has no router.entry page')
    const level = (manifest.config || {}).logLevel || 'log'
    this.minLevel = level === 'off' ? LEVELS.length : Math.max(0, LEVELS.indexOf(level))
    this.ctx = vm.createContext(this.sandbox())
    this.global = vm.runInContext('globalThis', this.ctx)
    this.parse = vm.runInContext('(text) => JSON.parse(text)', this.ctx)
    this.ProtoPromise = vm.runInContext('Promise.prototype', this.ctx)

    const appDef = this.evaluate('app.js').default || {}
    const pageFile = entry + '/' + (page.component || 'index') + '.js'
    const exported = this.evaluate(pageFile)
    let pageDef = exported.default
    if (!pageDef && typeof exported.entry === 'function') {
      // Built with --enable-custom-component: entry(obj) defines the page in obj.default.
      const holder = this.parse('{}')
      exported.entry(holder)
      pageDef = holder.default
    }
    if (!pageDef || typeof pageDef !== 'object') {
      throw new LoadError(pageFile + ' defines no page')
    }
    this.appVm = this.instantiate(appDef, { $def: appDef })
    this.pageVm = this.instantiate(pageDef, {
      $app: this.appVm,
      $page: { name: entry, path: '/' + entry, component: page.component || 'index' },
      $valid: true,
      $visible: true,
    })
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
    let source
    try {
      source = fs.readFileSync(path.join(this.dir, rel), 'utf8')
    } catch (e) {
      throw new LoadError('cannot read ' + rel + ': ' + e.code)
    }
    if (!source.startsWith(EXPORT + 'function')) {
      throw new LoadError(
        rel + ' is not a JavaScript bundle (`export default function`); bytecode builds ' +
          '(--enable-jsc) cannot run on the simulated watch'
      )
    }
    // The module's one export made an expression; lines and columns stay where they were.
    const code = '(' + ' '.repeat(EXPORT.length - 1) + source.slice(EXPORT.length) + '\n)'
    const exportsObj = this.parse('{}')
    let factory
    try {
      factory = new vm.Script(code, { filename: rel }).runInContext(this.ctx)
    } catch (e) {
      throw new LoadError(rel + ': ' + describe(e))
    }
    this.files.push(rel)
    const g = this.global
    factory.call(g, g, g, g, exportsObj, undefined)
    return exportsObj
  }

  sandbox() {
    const app = this
    const timers = {
      setTimeout: (fn, ms, ...args) => app.setTimer(false, fn, ms, args),
      setInterval: (fn, ms, ...args) => app.setTimer(true, fn, ms, args),
      clearTimeout: (id) => app.clearTimer(id),
      clearInterval: (id) => app.clearTimer(id),
    }
    const consoleObj = {}
    LEVELS.forEach((level) => {
      consoleObj[level] = (...args) => app.print(level, args)
    })
    consoleObj.trace = (...args) => app.print('debug', args)
    return Object.assign({}, timers, {
      console: consoleObj,
      performance: { now: nowMs, timeOrigin: Date.now() - nowMs() },
      queueMicrotask: (fn) => Promise.resolve().then(() => app.run(fn, undefined, [])),
      $app_require$: (name) => app.require(name),
      // Only a rendering template calls it; nothing is rendered here.
      aiot: { __ce__: () => null },
    })
  }

  // An instance of an app or page definition: its own copy of `data`, its functions bound
  // to it, room for fields it never declared.
  instantiate(def, extra) {
    const self = this.parse('{}')
    const data = def.data && typeof def.data === 'object' ? def.data : {}
    const copy = this.parse(JSON.stringify(data))
    Object.keys(copy).forEach((k) => {
      self[k] = copy[k]
    })
    Object.keys(def).forEach((k) => {
      if (!FRAMEWORK_KEYS.has(k) && typeof def[k] === 'function') self[k] = def[k].bind(self)
    })
    Object.keys(extra).forEach((k) => {
      Object.defineProperty(self, k, { value: extra[k], enumerable: false, writable: true })
    })
    return self
  }

  // --- life cycle ---

  start() {
    this.load()
    this.hook(this.appVm, 'onCreate')
    for (const name of ['onInit', 'onReady', 'onShow']) this.hook(this.pageVm, name)
  }

  stop() {
    if (this.stopped) return
    for (const name of ['onHide', 'onDestroy']) this.hook(this.pageVm, name)
    this.hook(this.appVm, 'onDestroy')
    this.stopped = true
    this.timers.forEach((t) => clearTimeout(t))
    this.timers.clear()
    this.pending.clear()
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
    }
  }

  uncaught(err, inPromise) {
    const text = 'Uncaught ' + (inPromise ? '(in promise) ' : '') + describe(err)
    emit('uncaught', { app: this.pkg, text: text, stack: appFrames(err) })
  }

  // --- timers and console ---

  setTimer(repeat, fn, ms, args) {
    if (this.stopped) return 0
    const id = ++this.nextTimer
    const delay = Math.max(0, Number(ms) || 0)
    const fire = () => {
      if (!repeat) this.timers.delete(id)
      if (typeof fn === 'function') this.run(fn, undefined, args)
    }
    this.timers.set(id, repeat ? setInterval(fire, delay) : setTimeout(fire, delay))
    return id
  }

  clearTimer(id) {
    const t = this.timers.get(id)
    if (t !== undefined) {
      clearTimeout(t)
      this.timers.delete(id)
    }
  }

  print(level, args) {
    if (LEVELS.indexOf(level) < this.minLevel) return
    emit('console', { app: this.pkg, level: level, text: args.map(show).join(' ') })
  }

  // --- modules ---

  require(name) {
    const id = String(name).replace(/^@app-module\//, '').replace(/^@/, '')
    if (!this.modules[id]) {
      if (id === 'system.interconnect') this.modules[id] = this.linkOf().module
      else if (id === 'system.app') this.modules[id] = this.appModule()
      else this.modules[id] = this.stubModule(id)
    }
    return this.modules[id]
  }

  // Calls the watch's platform; the callbacks run when its reply comes.
  call(module, method, args, options) {
    const opts = options && typeof options === 'object' ? options : {}
    const id = App.nextCall++
    this.pending.set(id, opts)
    emit('call', { app: this.pkg, call: id, module: module, method: method, args: args })
  }

  reply(msg) {
    const opts = this.pending.get(msg.call)
    if (opts === undefined) return
    this.pending.delete(msg.call)
    if (msg.ok) {
      const value = msg.value === undefined ? undefined : this.parse(JSON.stringify(msg.value))
      this.run(opts.success, opts, value === undefined ? [] : [value])
    } else {
      const data = msg.data === undefined ? undefined : this.parse(JSON.stringify(msg.data))
      this.run(opts.fail, opts, [data, msg.code])
    }
    this.run(opts.complete, opts, [])
  }

  // A fail(data, code) that comes later, as the platform's answers do.
  failSoon(opts, data, code) {
    const o = opts && typeof opts === 'object' ? opts : {}
    setImmediate(() => {
      this.run(o.fail, o, [data, code])
      this.run(o.complete, o, [])
    })
  }

  // The app's @system.interconnect (interconnect.js), made when first needed: its realm is up.
  linkOf() {
    if (this.link === null) this.link = interconnect.createLink(this)
    return this.link
  }

  event(msg) {
    this.linkOf().deliver(msg)
  }

  appModule() {
    const app = this
    const mod = this.stubModule('system.app')
    mod.getInfo = function () {
      const m = app.manifest || {}
      return app.parse(
        JSON.stringify({
          packageName: app.pkg,
          icon: m.icon,
          name: m.name,
          versionName: m.versionName,
          versionCode: m.versionCode,
          logLevel: (m.config || {}).logLevel,
          source: { packageName: 'com.vela.shell', type: 'shortcut', extra: {} },
        })
      )
    }
    return mod
  }

  // Every method of a module the simulated watch does not have: logs, then fails.
  stubModule(id) {
    const app = this
    const made = {}
    const target = this.parse('{}')
    return new Proxy(target, {
      get(obj, prop) {
        if (Object.prototype.hasOwnProperty.call(obj, prop)) return obj[prop]
        if (typeof prop !== 'string' || prop === '__esModule' || prop === 'then') return undefined
        if (prop === 'toJSON' || prop === 'constructor' || prop === 'default') return undefined
        if (!made[prop]) {
          made[prop] = function (options) {
            const what = '@' + id + '.' + prop + '() is not simulated'
            app.print('warn', [what])
            app.failSoon(options, '@' + id + ' is not simulated', NOT_SUPPORTED)
            return undefined
          }
        }
        return made[prop]
      },
    })
  }
}
App.nextCall = 1

// --- formatting ----------------------------------------------------------------------------------

function describe(err) {
  if (err !== null && typeof err === 'object' && typeof err.message === 'string') {
    const name = typeof err.name === 'string' && err.name ? err.name : 'Error'
    return err.message ? name + ': ' + err.message : name
  }
  return String(err)
}

// The stack as the watch's engine shows it: the app's own frames, never the host's.
function appFrames(err) {
  if (err === null || typeof err !== 'object' || typeof err.stack !== 'string') return []
  return err.stack
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .filter((line) => !line.includes(__dirname + path.sep) && !/\(node:|at node:/.test(line))
    .map((line) => '    ' + line.trim())
}

function show(value) {
  if (typeof value === 'string') return value
  if (value !== null && typeof value === 'object' && typeof value.stack === 'string') {
    return value.stack.split('\n')[0]
  }
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') {
    return String(value)
  }
  try {
    const text = JSON.stringify(value)
    return text === undefined ? String(value) : text
  } catch (e) {
    return String(value)
  }
}

// --- the pipe ------------------------------------------------------------------------------------

const apps = new Map()

function handle(msg) {
  const app = apps.get(msg.app)
  switch (msg.op) {
    case 'start': {
      if (app) app.stop()
      const fresh = new App(msg.app, msg.dir)
      apps.set(msg.app, fresh)
      try {
        fresh.start()
      } catch (e) {
        fresh.stopped = true
        apps.delete(msg.app)
        if (e instanceof LoadError) {
          emit('failed', { app: msg.app, error: e.message })
        } else {
          // The bundle itself threw while loading: the app's error, and it did not start.
          fresh.uncaught(e, false)
          emit('failed', { app: msg.app, error: 'the app threw while loading: ' + describe(e) })
        }
        return
      }
      emit('started', { app: msg.app })
      return
    }
    case 'stop':
      if (app) {
        app.stop()
        apps.delete(msg.app)
      }
      emit('stopped', { app: msg.app })
      return
    case 'event':
      if (app) app.event(msg)
      return
    case 'reply':
      if (app) app.reply(msg)
      return
    default:
      complain('unknown order ' + JSON.stringify(msg).slice(0, 200))
  }
}

// A promise the app rejected with no handler: its uncaught error, told by the promise's realm.
process.on('unhandledRejection', (reason, promise) => {
  for (const app of apps.values()) {
    if (Object.getPrototypeOf(promise) === app.ProtoPromise) {
      if (!app.stopped) app.uncaught(reason, true)
      return
    }
  }
  complain('unhandled rejection outside any app: ' + describe(reason))
})

process.on('uncaughtException', (err) => {
  // Not app code (app code runs under App.run): a fault of the host itself, kept alive.
  complain('uncaught exception: ' + (err && err.stack ? err.stack : String(err)))
})

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
lines.on('line', (line) => {
  if (!line.trim()) return
  let msg
  try {
    msg = JSON.parse(line)
  } catch (e) {
    complain('unreadable order: ' + line.slice(0, 200))
    return
  }
  handle(msg)
})
lines.on('close', () => process.exit(0))

emit('ready', { node: process.version, pipe: PIPE.fromHost.length + PIPE.toHost.length })
