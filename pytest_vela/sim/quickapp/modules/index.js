/*
 * The system modules an app can import: those emulated (one file each, following the vendor's
 * documented behaviour; docs/quickapp-runtime.md says what each call does and why), and for any
 * other a stub whose every method says it is not simulated and fails 203.
 */
'use strict'

const { makeModule } = require('../calls')

const EMULATED = {
  'system.interconnect': require('./interconnect'),
  'system.app': require('./app'),
  'system.router': require('./router'),
  'system.storage': require('./storage'),
  'system.file': require('./file'),
  'system.device': require('./device'),
  'system.prompt': require('./prompt'),
  'system.vibrator': require('./vibrator'),
  'system.brightness': require('./brightness'),
  'system.battery': require('./battery'),
  'system.configuration': require('./configuration'),
  'system.network': require('./network'),
}

const isEmulated = (id) => Object.hasOwn(EMULATED, id)

// `@<id>` for `app`: the emulated module (told which others are, for @system.app's canIUse),
// or a stub.
function create(app, id) {
  return isEmulated(id) ? EMULATED[id](app, id, isEmulated) : makeModule(app, id, {})
}

module.exports = { create, EMULATED }
