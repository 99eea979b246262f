/*
 * How the runtime writes things down: errors as the watch's engine prints them, values as
 * console.log shows them, and the one line a person would see or feel.
 */
'use strict'

const path = require('path')

// Every file of the runtime lives here; a stack frame in one of them is never the app's.
const RUNTIME_DIR = __dirname + path.sep

function describe(err) {
  if (err !== null && typeof err === 'object' && typeof err.message === 'string') {
    const name = typeof err.name === 'string' && err.name ? err.name : 'Error'
    return err.message ? name + ': ' + err.message : name
  }
  return String(err)
}

// The stack as the watch's engine shows it: the app's own frames, never the runtime's.
function appFrames(err) {
  if (err === null || typeof err !== 'object' || typeof err.stack !== 'string') return []
  return err.stack
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .filter((line) => !line.includes(RUNTIME_DIR) && !/\(node:|at node:/.test(line))
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

// What a person would see or feel, as one console line: `[SYS] prompt.showToast: saved`.
// `values` are the call's arguments that matter, shown as console.log shows them.
function sysLine(module, method, values) {
  const shown = (values || []).filter((v) => v !== undefined).map(show)
  return '[SYS] ' + module + '.' + method + (shown.length ? ': ' + shown.join(', ') : '')
}

module.exports = { describe, appFrames, show, sysLine, RUNTIME_DIR }
