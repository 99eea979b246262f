/*
 * The simulated watch's quick-app runtime: runs the JavaScript bundles of built rpks.
 *
 * One process per simulated watch; the watch (a Python process) starts it with
 *   node host.js <clock epoch, CLOCK_MONOTONIC ns>
 * and talks to it over the pipe defined in pipe.py beside this file: JSON lines, orders on
 * stdin, the apps' calls and output on stdout. stdout carries nothing else; the host's own
 * complaints go to stderr (the simulator's log).
 *
 * What an app gets (runtime.js): its app.js and the router's pages loaded as the toolkit built
 * them, in a JavaScript context of its own; the life cycle of the app and its pages (pages.js);
 * timers; console; the framework's instance methods (instance.js); the system modules
 * (modules/: emulated ones following the vendor's documented behaviour, a stub for any other).
 * Nothing is rendered. `@system.interconnect` is a thin proxy: every rule of the link lives in
 * the watch's platform model, which answers the calls made here.
 */
'use strict'

const readline = require('readline')

const { describe } = require('./format')
const { LoadError } = require('./errors')
const { App } = require('./runtime')

// The pipe's messages (pipe.py is their definition; a test holds this table against it).
const PIPE = {
  toHost: ['start', 'stop', 'event', 'reply', 'settle'],
  fromHost: [
    'ready',
    'started',
    'failed',
    'stopped',
    'exited',
    'console',
    'uncaught',
    'settled',
    'call',
  ],
}

const EPOCH = process.argv[2] ? BigInt(process.argv[2]) : process.hrtime.bigint()

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

const HOST = { emit, nowMs }
const apps = new Map()

function start(msg) {
  const running = apps.get(msg.app)
  if (running) running.stop()
  const fresh = new App(msg, HOST)
  apps.set(msg.app, fresh)
  fresh.onExit = () => {
    if (apps.get(msg.app) === fresh) apps.delete(msg.app)
    emit('exited', { app: msg.app })
  }
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
}

// Answers once the app has nothing left to do within `within_ms` (checked after the callbacks
// and promise jobs already queued have run), or once `limit_ms` is over.
function settle(msg) {
  const deadline = nowMs() + Number(msg.limit_ms)
  const check = () => {
    const app = apps.get(msg.app)
    const busy = app !== undefined && app.busyWithin(Number(msg.within_ms))
    if (!busy || nowMs() >= deadline) {
      emit('settled', { app: msg.app, idle: app !== undefined && !busy })
    } else {
      setTimeout(check, 1)
    }
  }
  setImmediate(check)
}

function handle(msg) {
  const app = apps.get(msg.app)
  switch (msg.op) {
    case 'start':
      start(msg)
      return
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
    case 'settle':
      settle(msg)
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
